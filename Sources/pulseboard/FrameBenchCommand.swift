import ArgumentParser
import Foundation
import Logging
import PulseboardCore
import PulseboardEngine
import PulseboardServer

/// `pulseboard bench frame`: computes one dashboard's frame over a data directory's history
/// many times in process and prints the compute time (what the hub spends per topic per
/// refresh), without HTTP or scheduling in the way.
struct FrameBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frame", abstract: "Time the computation of a dashboard frame over a data directory's history")

    @Option(name: .customLong("data-dir"), help: "Data directory with history (the server must not be running on it).")
    var dataDir: String?

    @Option(help: "JSON configuration file.")
    var config: String = "config/pulseboard.json"

    @Option(help: "Dashboard id.")
    var dashboard = "executive"

    @Option(help: "Frames to compute (after 5 unmeasured).")
    var iterations = 200

    func run() throws {
        let opened = try CommandHistory(config: config, dataDir: dataDir)
        defer { withExtendedLifetime(opened) {} }
        let (configuration, history, logger) = (opened.configuration, opened.history, opened.logger)
        let store = DashboardStore(directory: configuration.paths.dashboards, dimensions: configuration.aggregation.dimensions, logger: logger)
        _ = store.load()
        guard let spec = store.entry(dashboard)?.spec else {
            FileHandle.standardError.write(Data("pulseboard: no valid dashboard '\(dashboard)' in \(configuration.paths.dashboards)\n".utf8))
            throw ExitCode(1)
        }
        let scratch = NSTemporaryDirectory() + "pulseboard-frame-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let telemetry = Telemetry()
        let journal = try Journal(directory: scratch, configuration: configuration.journal, telemetry: telemetry, logger: logger)
        let ingestor = Ingestor(
            configuration: configuration.ingest, aggregation: configuration.aggregation, journal: journal, telemetry: telemetry,
            clock: SystemClock(), history: history, logger: logger)
        ingestor.markReady()
        let benchmarks = try BenchmarksLoader.load(path: configuration.benchmarksFile)
        let variables = try spec.resolve([:])
        let frames = FrameBuilder()
        var times: [Double] = []
        var bytes = 0
        let clock = ContinuousClock()
        for i in 0..<(iterations + 5) {
            let started = clock.now
            let source = LiveFrameSource(ingestor: ingestor, benchmarks: benchmarks, nowMs: ingestor.nowMillis())
            let widgets = frames.widgets(spec, variables: variables, source: source)
            let elapsed = clock.now - started
            bytes = widgets.jsonBytes.count
            if i >= 5 { times.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
        }
        times.sort()
        let stats = history.stats()
        func q(_ p: Double) -> String { String(format: "%.2f", times[min(times.count - 1, Int(Double(times.count) * p))]) }
        print("frame '\(dashboard)' (\(spec.widgets.count) widgets, \(bytes) bytes) over \(stats.knownUsers) users, \(stats.storedDays) days: "
            + "p50 \(q(0.5)) ms, p90 \(q(0.9)) ms, p99 \(q(0.99)) ms, min \(q(0)) ms (\(iterations) frames)")
        journal.close()
    }
}
