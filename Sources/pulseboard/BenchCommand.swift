import ArgumentParser
import Foundation
import PulseboardBench

/// `pulseboard bench`: load clients that measure a server started separately with `pulseboard serve`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load clients for benchmarking a running server",
        subcommands: [IngestBenchCommand.self, DecodeBenchCommand.self, FanoutBenchCommand.self, FrameBenchCommand.self, JournalBenchCommand.self]
    )
}

/// `pulseboard bench ingest`: offers fixed event rates (open loop) and a closed-loop maximum to
/// `POST /api/analytics/events` (or, with `--target clickhouse`, the same events as JSONEachRow
/// inserts to ClickHouse) and prints achieved throughput and ack latency per rate.
struct IngestBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure ingest throughput and ack latency at fixed offered rates",
        discussion: """
            Each rate step runs --warmup seconds unmeasured, then --duration seconds measured. Fixed \
            rates are offered open loop (latency counts from each request's scheduled send time); \
            "max" is closed loop, each connection sending as soon as its previous response arrives. \
            With --target clickhouse the same synthetic events go, as JSONEachRow rows (converted once, \
            before the run), to ClickHouse's HTTP port as INSERT INTO frontend_events (the table of \
            Benchmarks/clickhouse.sh); a 200 answer accepts the whole batch. With --events N exactly N \
            events are loaded (the two preflight batches included): the max step runs without warmup \
            until they are all acknowledged, and its events/s is N over that time.
            """
    )

    /// `--target` values (the benchmark's `IngestBenchmark.Target`, parsed by ArgumentParser).
    enum TargetArgument: String, CaseIterable, ExpressibleByArgument {
        case pulseboard, clickhouse

        var target: IngestBenchmark.Target {
            switch self {
            case .pulseboard: .pulseboard
            case .clickhouse: .clickhouse
            }
        }
    }

    @Option(help: "Server to load: pulseboard or clickhouse (JSONEachRow into frontend_events).")
    var target = TargetArgument.pulseboard

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

    @Option(help: "Comma list of offered events/s; \"max\" runs closed loop as fast as possible (default 10000,100000,max; max with --events).")
    var rates: String?

    @Option(help: "Request path and query of the inserts (default: the target's, e.g. /api/analytics/events).")
    var path: String?

    @Option(help: "Load exactly this many events (a multiple of --batch-size) in one max step, then stop.")
    var events: Int?

    @Option(help: "Output: table, or tsv (no header) for scripts.")
    var format = "table"

    @Option(help: "API key, sent as 'Authorization: Bearer <key>'.")
    var key: String?

    @Option(help: "Unmeasured warmup seconds before each rate step.")
    var warmup = 2.0

    @Option(help: "Client event loop threads.")
    var threads = 1

    mutating func run() async throws {
        guard format == "table" || format == "tsv" else { throw ValidationError("--format must be table or tsv") }
        var options = IngestBenchmark.Options()
        options.target = target.target
        options.host = host
        options.port = port
        options.path = path
        options.connections = connections
        options.batchSize = batchSize
        options.users = users
        options.durationSeconds = duration
        options.warmupSeconds = warmup
        options.apiKey = key
        options.threads = threads
        options.events = events
        do {
            options.rates = try IngestBenchmark.Rate.parseList(rates ?? (events == nil ? "10000,100000,max" : "max"))
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
        print(format == "tsv" ? IngestBenchmark.formatTSV(results) : IngestBenchmark.formatTable(results))
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

/// `pulseboard bench fanout`: holds N SSE or WebSocket subscribers to one dashboard and prints one
/// table row: push latency (frame `ts` to arrival), deliveries, and server CPU and memory.
struct FanoutBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Measure push latency and server cost per subscriber with N SSE or WebSocket subscribers",
        discussion: """
            Connects --subscribers streams to --dashboard, waits --warmup seconds, then counts every \
            frame whose server timestamp ("ts") falls in the next --duration seconds: latency is its \
            arrival time minus ts. Expected deliveries are (distinct frames seen) x N. With \
            --server-pid, the server's CPU time (per thread, in ns, from /proc/PID/task/*/schedstat; \
            /proc/PID/stat where threads exited) over the window and its RSS growth \
            since before connecting (/proc/PID/status) are reported per delivery and per subscriber. \
            Connections are spread over source addresses 127.0.0.2, 127.0.0.3, ... and, past \
            --per-process subscribers, over child processes of this same command (one event loop \
            thread each). With --path, peers such as Nchan are measured: any event or message whose \
            JSON has "ts" is a frame, and WebSocket subscribers send no subscribe message.
            """
    )

    @Option(help: "Server host.")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 8080

    @Option(help: "Subscribers to hold.")
    var subscribers = 1000

    @Option(help: "sse or ws.")
    var transport = "sse"

    @Option(help: "Dashboard to subscribe to.")
    var dashboard = "wallboard"

    @Option(help: "Measured seconds per window.")
    var duration = 20.0

    @Option(help: "Measured windows over the same connections (one result row each).")
    var windows = 1

    @Option(help: "Unmeasured seconds after all subscribers connected.")
    var warmup = 5.0

    @Option(help: "Seconds after the window during which its frames may still arrive.")
    var grace = 3.0

    @Option(help: "Seconds of idle server CPU sampled before connecting (with --server-pid).")
    var baseline = 2.0

    @Option(help: "Server process id, to sample its CPU time and RSS.")
    var serverPid: Int32?

    @Option(help: "Request path instead of Pulseboard's (for peers such as Nchan: e.g. /sub).")
    var path: String?

    @Option(help: "Server name in the table.")
    var label = "pulseboard"

    @Option(name: .customLong("per-process"), help: "Subscribers per client process; more start worker processes.")
    var perProcess = 8000

    @Option(name: .customLong("per-address"), help: "Subscribers per loopback source address.")
    var perAddress = 4000

    @Option(help: "Connects in flight at once, per process.")
    var maxConnecting = 256

    @Option(help: "Output: table, or tsv (no header) for scripts.")
    var format = "table"

    @Option(help: .hidden)
    var worker: String?

    mutating func run() async throws {
        if let worker {
            try await FanoutBenchmark.runWorker(settingsJSON: worker)
            return
        }
        guard let transport = FanoutBenchmark.Transport(rawValue: transport) else {
            throw ValidationError("--transport must be sse or ws")
        }
        guard format == "table" || format == "tsv" else { throw ValidationError("--format must be table or tsv") }
        var options = FanoutBenchmark.Options()
        options.host = host
        options.port = port
        options.subscribers = subscribers
        options.transport = transport
        options.dashboard = dashboard
        options.path = path
        options.serverLabel = label
        options.durationSeconds = duration
        options.windows = windows
        options.warmupSeconds = warmup
        options.graceSeconds = grace
        options.baselineSeconds = baseline
        options.serverPID = serverPid
        options.subscribersPerWorker = perProcess
        options.subscribersPerAddress = perAddress
        options.maxConnecting = maxConnecting
        let executable = Bundle.main.executablePath ?? CommandLine.arguments[0]
        options.workerCommand = [executable, "bench", "fanout", "--worker"]
        options.progress = { line in Self.printError(line) }
        let results: [FanoutBenchmark.Result]
        do {
            results = try await FanoutBenchmark(options: options).run()
        } catch let error as FanoutBenchmarkError {
            Self.printError("error: \(error)")
            throw ExitCode.failure
        }
        print(format == "tsv" ? FanoutBenchmark.formatTSV(results) : FanoutBenchmark.formatTable(results))
    }

    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
