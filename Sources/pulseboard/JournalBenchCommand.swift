import ArgumentParser
import Foundation
import Logging
import PulseboardCore
import PulseboardEngine
import NIOCore
import PulseboardBench
import PulseboardServer

/// `pulseboard bench journal`: writes a data directory's journal as a server would have after
/// `--hours` of traffic at `--events-per-hour`, so a restart (start to `/ready`) can be timed on
/// a day of journal without waiting a day. Records are realistic batches (seed 004's taxonomy)
/// whose arrival times and timestamps are spread evenly over the hours ending now (a pool of
/// 1,024 generated batches, reused with fresh event ids, as `bench ingest` does).
struct JournalBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: "Write hours of realistic journal into a data directory (for restart benchmarks)")

    @Option(name: .customLong("data-dir"), help: "Data directory to write <data-dir>/journal into (the server must not be running on it).")
    var dataDir: String

    @Option(help: "JSON configuration file (journal segment size).")
    var config: String = "config/pulseboard.json"

    @Option(help: "Hours of traffic, ending now.")
    var hours = 24

    @Option(name: .customLong("events-per-hour"), help: "Events per hour.")
    var eventsPerHour = 500_000

    @Option(help: "Distinct synthetic users.")
    var users = 50_000

    @Option(name: .customLong("batch-size"), help: "Events per journal record (one ingest request).")
    var batchSize = 100

    @Option(help: "Random seed.")
    var seed: UInt64 = 42

    func validate() throws {
        guard hours > 0, hours <= 24 * 31 else { throw ValidationError("--hours must be 1…744") }
        guard eventsPerHour >= batchSize else { throw ValidationError("--events-per-hour must be at least --batch-size") }
        guard batchSize > 0, batchSize <= 1000 else { throw ValidationError("--batch-size must be 1…1000") }
        guard users > 0 else { throw ValidationError("--users must be positive") }
    }

    func run() throws {
        let configuration = try PulseboardConfiguration.loadForCommand(file: config, overrides: ["paths.data_dir": dataDir])
        var logger = Logger(label: "pulseboard.bench.journal")
        logger.logLevel = .warning
        let lock = try DataDirectoryLock(directory: configuration.paths.dataDir)
        defer { withExtendedLifetime(lock) {} }
        let journal = try Journal(
            directory: dataDir + "/journal", configuration: configuration.journal, telemetry: Telemetry(), logger: logger)
        defer { journal.close() }

        var bodies = try SyntheticBodies(batchSize: batchSize, users: users, seed: seed)
        let total = hours * eventsPerHour
        let records = total / batchSize
        let endMs = Int64(Date().timeIntervalSince1970 * 1000)
        let spanMs = Int64(hours) * 3_600_000
        let mask = [UInt8](repeating: 0xFF, count: (batchSize + 7) / 8)
        var body = ByteBuffer()
        var bytes = 0
        let clock = ContinuousClock()
        let started = clock.now
        for record in 0..<records {
            // Oldest first, as a server would have written them; the last record arrives now.
            let arrivalMs = endMs - spanMs + spanMs * Int64(record + 1) / Int64(records)
            bodies.next(atMillis: arrivalMs, into: &body)
            try mask.withUnsafeBytes { m in
                try body.withUnsafeReadableBytes { b in
                    _ = try journal.append(arrivalMs: arrivalMs, format: .json, mask: m, body: b)
                }
            }
            bytes += body.readableBytes
            if record % 20_000 == 0 && record > 0 {
                FileHandle.standardError.write(Data("  \(record * batchSize) / \(total) events\n".utf8))
            }
        }
        let written = records * batchSize
        let seconds = Double((clock.now - started).components.attoseconds) / 1e18 + Double((clock.now - started).components.seconds)
        print("journal: \(written) events in \(records) records, \(bytes / 1_000_000) MB of bodies, \(hours) h ending now, "
            + "written in \(String(format: "%.1f", seconds)) s to \(dataDir)/journal")
    }
}
