import ArgumentParser
import Foundation
import PulseboardBench

/// `pulseboard bench`: load clients that measure a server started separately with `pulseboard serve`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load clients for benchmarking a running server",
        subcommands: [IngestBenchCommand.self, DecodeBenchCommand.self]
    )
}

/// `pulseboard bench ingest`: offers fixed event rates (open loop) and a closed-loop maximum to
/// `POST /api/analytics/events` and prints achieved throughput and ack latency per rate.
struct IngestBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure ingest throughput and ack latency at fixed offered rates",
        discussion: """
            Each rate step runs --warmup seconds unmeasured, then --duration seconds measured. Fixed \
            rates are offered open loop (latency counts from each request's scheduled send time); \
            "max" is closed loop, each connection sending as soon as its previous response arrives.
            """
    )

    @Option(help: "Server host.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 8080

    @Option(help: "Keep-alive connections, one request in flight each.")
    var connections = 16

    @Option(help: "Events per request.")
    var batchSize = 100

    @Option(help: "Distinct synthetic users.")
    var users = 50_000

    @Option(help: "Measured seconds per rate step.")
    var duration = 10.0

    @Option(help: "Comma list of offered events/s; \"max\" runs closed loop as fast as possible.")
    var rates = "10000,100000,max"

    @Option(help: "API key, sent as 'Authorization: Bearer <key>'.")
    var key: String?

    @Option(help: "Unmeasured warmup seconds before each rate step.")
    var warmup = 2.0

    @Option(help: "Client event loop threads.")
    var threads = 1

    mutating func run() async throws {
        var options = IngestBenchmark.Options()
        options.host = host
        options.port = port
        options.connections = connections
        options.batchSize = batchSize
        options.users = users
        options.durationSeconds = duration
        options.warmupSeconds = warmup
        options.apiKey = key
        options.threads = threads
        do {
            options.rates = try IngestBenchmark.Rate.parseList(rates)
        } catch {
            throw ValidationError("\(error)")
        }
        options.progress = { line in Self.printError(line) }
        let results: [IngestBenchmark.StepResult]
        do {
            results = try await IngestBenchmark(options: options).run()
        } catch let error as IngestBenchmarkError {
            Self.printError("error: \(error)")
            throw ExitCode.failure
        }
        print(IngestBenchmark.formatTable(results))
    }

    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// `pulseboard bench decode`: decode + validate alone, in process, on one core.
struct DecodeBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode", abstract: "Measure event decode + validation alone (one core, no server)")

    @Option(help: "Batches to decode.")
    var batches = 20_000

    @Option(help: "Events per batch.")
    var batchSize = 100

    func run() throws {
        let r = DecodeBenchmark(batches: batches, batchSize: batchSize).run()
        print(String(format: "decoded %d events (%.1f MB) in %.3f s: %.0f events/s, %.0f MB/s, %.2f µs/event",
            r.events, Double(r.bytes) / 1e6, r.seconds, r.eventsPerSecond, r.megabytesPerSecond, r.seconds / Double(r.events) * 1e6))
    }
}
