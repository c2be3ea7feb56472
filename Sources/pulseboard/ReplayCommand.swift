import ArgumentParser
import Foundation
import PulseboardCore
import PulseboardEngine
import PulseboardServer

/// `pulseboard replay FILE…`: backfills history from NDJSON files (plain or .gz) with their
/// own timestamps, into the data directory's rollup store (the server must not be running on
/// it; use `POST /api/history/import` then). Resumable: a file already imported is skipped.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Backfill history from NDJSON event files (.ndjson or .ndjson.gz)")

    @Argument(help: "NDJSON files, one event per line, each with user_id and timestamp.")
    var files: [String]

    @Option(name: .customLong("data-dir"), help: "Data directory (config paths.data_dir). Default ./data.")
    var dataDir: String?

    @Option(help: "JSON configuration file.")
    var config: String = "config/pulseboard.json"

    func run() throws {
        let opened = try CommandHistory(config: config, dataDir: dataDir)
        defer { withExtendedLifetime(opened) {} }
        let (configuration, history) = (opened.configuration, opened.history)
        let importer = HistoryImporter(history: history, dimensions: configuration.aggregation.dimensions)
        for file in files {
            let reader: NDJSONFileReader
            do { reader = try NDJSONFileReader(path: file) } catch {
                FileHandle.standardError.write(Data("pulseboard: \(error)\n".utf8))
                throw ExitCode(1)
            }
            // The import id: file name and size, so the same file is imported once.
            let importId = (file as NSString).lastPathComponent + ":" + String(reader.fileBytes)
            var bar = ProgressBar(label: (file as NSString).lastPathComponent, total: Double(max(1, reader.fileBytes)), unit: "bytes")
            let started = Date()
            let p = try importer.run(importId: importId, nowMs: Int64(Date().timeIntervalSince1970 * 1000), nextChunk: { try reader.nextChunk() }) { p in
                let rate = Double(p.events) / max(0.001, Date().timeIntervalSince(started))
                bar.update(Double(reader.compressedBytesRead), detail: "\(p.events) events, \(Int(rate)) events/s")
            }
            let seconds = Date().timeIntervalSince(started)
            bar.finish(detail: "\(p.events) events in \(String(format: "%.1f", seconds)) s (\(Int(Double(p.events) / max(seconds, 0.001))) events/s)")
            if p.skipped > 0 { print("\(file): \(p.skipped) lines were already imported (skipped)") }
            if p.rejected > 0 { print("\(file): \(p.rejected) lines rejected (invalid events)") }
            print("\(file): \(p.events) events into history (\(configuration.paths.dataDir)/history.sqlite)")
        }
    }
}
