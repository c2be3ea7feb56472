import Foundation
import NIOCore
import NIOPosix

/// Load client for `POST /api/analytics/events`: offers fixed event rates open loop (latency measured
/// from each request's scheduled send time, so a slow server cannot hide queueing) and a closed-loop
/// "max" step, over keep-alive HTTP/1.1 connections with pre-generated, per-send unique batches.
/// The same synthetic events can be sent to ClickHouse instead (`Target.clickhouse`), as
/// JSONEachRow inserts into the `frontend_events` table of `Benchmarks/clickhouse.sh`.
public struct IngestBenchmark: Sendable {
    /// The server the events are sent to, which fixes the body format and what counts as accepted.
    public enum Target: String, Sendable, CaseIterable, CustomStringConvertible {
        /// Pulseboard's `POST /api/analytics/events`: batches `{"events":[…]}`; a 200 answer says how
        /// many events it accepted (`"accepted":N`) and how many were duplicates.
        case pulseboard
        /// ClickHouse's HTTP interface: `INSERT INTO frontend_events FORMAT JSONEachRow`, one row per
        /// event (converted from the same batches once, when the pool is built); a 200 answer
        /// accepted the whole batch.
        case clickhouse

        /// Request target of the inserts unless `Options.path` says otherwise.
        public var defaultPath: String {
            switch self {
            case .pulseboard: "/api/analytics/events"
            case .clickhouse: "/?query=INSERT%20INTO%20frontend_events%20FORMAT%20JSONEachRow"
            }
        }

        var contentType: String {
            switch self {
            case .pulseboard: "application/json"
            case .clickhouse: "application/x-ndjson"
            }
        }

        var poolFormat: IngestBodyPool.Format {
            switch self {
            case .pulseboard: .pulseboard
            case .clickhouse: .clickHouseRows
            }
        }

        public var description: String { rawValue }
    }

    /// An offered load: a fixed number of events per second, or as fast as the server answers.
    public enum Rate: Sendable, Hashable, CustomStringConvertible {
        /// Open loop: `batchSize`-event requests at fixed intervals adding up to this many events/s.
        case eventsPerSecond(Int)
        /// Closed loop: every connection sends its next request when the previous response arrives.
        case max

        /// Parses `"max"` or a positive integer (`_` separators allowed).
        public init?(_ text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
            if trimmed == "max" {
                self = .max
            } else if let value = Int(trimmed.replacingOccurrences(of: "_", with: "")), value > 0 {
                self = .eventsPerSecond(value)
            } else {
                return nil
            }
        }

        /// Parses a comma-separated list such as `10000,100000,max`.
        public static func parseList(_ text: String) throws -> [Rate] {
            let parts = text.split(separator: ",").map(String.init)
            let rates = parts.compactMap(Rate.init)
            guard !parts.isEmpty, rates.count == parts.count else {
                throw IngestBenchmarkError.invalidOptions("rates must be a comma list of positive integers or \"max\", got \"\(text)\"")
            }
            return rates
        }

        public var description: String {
            switch self {
            case .eventsPerSecond(let value): String(value)
            case .max: "max"
            }
        }
    }

    /// What to run, and against which server.
    public struct Options: Sendable {
        public var target = Target.pulseboard
        public var host = "127.0.0.1"
        public var port = 8080
        /// Request target (path and query) of the inserts; `target.defaultPath` when nil.
        public var path: String?
        /// Keep-alive connections, each with at most one request in flight.
        public var connections = 16
        /// Events per request.
        public var batchSize = 100
        /// Distinct synthetic users the events are spread over.
        public var users = 50_000
        /// Measured seconds per rate step.
        public var durationSeconds = 10.0
        /// Unmeasured seconds at the step's rate before each measurement.
        public var warmupSeconds = 2.0
        public var rates: [Rate] = [.eventsPerSecond(10_000), .eventsPerSecond(100_000), .max]
        /// Sent as `Authorization: Bearer <key>` when set.
        public var apiKey: String?
        /// Event loop threads of the client (the server usually shares the machine).
        public var threads = 1
        /// Pre-generated request bodies (capped at about 64 MiB in total).
        public var poolSize = 1024
        /// Seed of the synthetic traffic; random when nil, so reruns never collide on event ids.
        public var seed: UInt64?
        /// How long after a step's end its outstanding requests may take before they count as timeouts.
        public var drainTimeoutSeconds = 10.0
        /// Load exactly this many events (a multiple of `batchSize`, `rates` only `.max`): the two
        /// preflight batches count, the max step sends the rest with no warmup and no fixed
        /// duration, and ends once they have all been answered. Refused requests (non-200) are sent
        /// again; lost ones (connection closed, timeout) are not, so they show as errors.
        public var events: Int?
        /// Receives progress and warning lines (e.g. to print on stderr).
        public var progress: (@Sendable (String) -> Void)?

        public init() {}
    }

    /// What one rate step measured.
    public struct StepResult: Sendable {
        public var rate: Rate
        /// Length of the measurement window in seconds.
        public var durationSeconds: Double
        /// Events accepted by responses that arrived inside the measurement window, per second.
        public var achievedEventsPerSecond: Double
        /// Requests scheduled inside the measurement window (all answered or counted as errors).
        public var requests: Int
        public var acceptedEvents: Int
        public var duplicateEvents: Int
        /// Events of 200 responses that were neither accepted nor duplicates.
        public var rejectedEvents: Int
        /// Requests that came due while their connection was still busy, so waited (open loop only).
        public var queuedRequests: Int
        /// Failed requests by HTTP status, `"io"` (connection lost) or `"timeout"` (not answered).
        public var errors: [String: Int]
        /// Latency quantiles of 200 responses, from scheduled send time to full response; nil without any.
        public var p50Millis: Double?
        public var p99Millis: Double?
        public var maxMillis: Double?
        /// The server the step loaded.
        public var target = Target.pulseboard
        /// The step's event budget (`Options.events` less the preflight's), if it had one.
        public var eventBudget: Int?

        public var offeredEventsPerSecond: Int? {
            if case .eventsPerSecond(let value) = rate { value } else { nil }
        }

        public var errorCount: Int { errors.values.reduce(0, +) }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Connects, checks with two preflight requests that the server accepts the batches, then runs
    /// every rate step in order.
    public func run() async throws -> [StepResult] {
        try validate()
        let seed = options.seed ?? UInt64.random(in: .min ... .max)
        let nowMillis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        let pool = try IngestBodyPool(
            format: options.target.poolFormat, batchSize: options.batchSize, users: options.users,
            count: options.poolSize, seed: seed, nowMillis: nowMillis)
        let averageBytes = pool.bodies.reduce(0) { $0 + $1.bytes.count } / pool.bodies.count
        report("pool: \(pool.bodies.count) \(options.target) bodies of \(options.batchSize) events, ~\(averageBytes / 1024) KiB each")
        let errorLog = IngestErrorLog(sink: options.progress)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        var connections: [NIOLoopBound<IngestConnection>] = []
        do {
            for index in 0..<options.connections {
                let loop = group.next()
                var settings = IngestConnection.Settings(
                    host: options.host, port: options.port, apiKey: options.apiKey, index: index)
                settings.path = options.path ?? options.target.defaultPath
                settings.contentType = options.target.contentType
                settings.countsFromBody = options.target == .pulseboard
                settings.errorLog = errorLog
                let connectionSettings = settings
                connections.append(
                    try await loop.submit {
                        NIOLoopBound(IngestConnection(settings: connectionSettings, pool: pool, eventLoop: loop), eventLoop: loop)
                    }.get())
            }
            let connects = connections.map { connection in
                connection.eventLoop.flatSubmit { connection.value.connect() }
            }
            for future in connects {
                do {
                    try await future.get()
                } catch {
                    throw IngestBenchmarkError.connectFailed(host: options.host, port: options.port, underlying: "\(error)")
                }
            }
            try await preflight(connections[0])

            var results: [StepResult] = []
            for rate in options.rates {
                results.append(try await runStep(rate, connections: connections))
            }
            await close(connections)
            try await group.shutdownGracefully()
            return results
        } catch {
            await close(connections)
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw IngestBenchmarkError.invalidOptions(message) }
        }
        try check(options.port > 0 && options.port < 65_536, "port must be in 1...65535")
        try check(options.connections >= 1 && options.connections <= 4096, "connections must be in 1...4096")
        try check(options.batchSize >= 1 && options.batchSize <= 100_000, "batch size must be in 1...100000")
        try check(options.users >= 1, "users must be at least 1")
        try check(options.durationSeconds > 0, "duration must be positive")
        try check(options.warmupSeconds >= 0, "warmup must not be negative")
        try check(!options.rates.isEmpty, "at least one rate is needed")
        try check(options.threads >= 1 && options.threads <= 64, "threads must be in 1...64")
        try check(options.poolSize >= 1, "pool size must be at least 1")
        try check(options.drainTimeoutSeconds > 0, "drain timeout must be positive")
        try check(options.path.map { $0.hasPrefix("/") } ?? true, "path must start with /")
        if let events = options.events {
            try check(options.rates == [.max], "--events loads with the max step alone: use --rates max")
            try check(
                events > 0 && events % options.batchSize == 0,
                "events must be a positive multiple of the batch size (\(options.batchSize))")
            try check(
                events >= (Self.preflightRequests + 1) * options.batchSize,
                "events must be at least \((Self.preflightRequests + 1) * options.batchSize) (the preflight sends \(Self.preflightRequests) batches)")
        }
    }

    /// Batches the preflight sends before the first step (they count towards `Options.events`).
    static let preflightRequests = 2

    private func report(_ line: String) {
        options.progress?(line)
    }

    /// Sends the same pool body twice (with different patched ids) and checks that both are fully
    /// accepted: a server that rejects them or reports duplicates would make the numbers meaningless.
    private func preflight(_ connection: NIOLoopBound<IngestConnection>) async throws {
        for attempt in 1...Self.preflightRequests {
            let answer: IngestResponseSummary
            do {
                answer = try await connection.eventLoop.flatSubmit { connection.value.probe(bodyIndex: 0) }.get()
            } catch let error as IngestBenchmarkError {
                throw error
            } catch {
                throw IngestBenchmarkError.preflightFailed("\(error)")
            }
            guard answer.status == 200 else {
                throw IngestBenchmarkError.preflightFailed("HTTP \(answer.status): \(answer.bodyPrefix)")
            }
            let accepted = answer.accepted ?? options.batchSize
            let duplicates = answer.duplicates ?? 0
            if accepted != options.batchSize || duplicates != 0 {
                report(
                    "warning: preflight request \(attempt) accepted \(accepted) of \(options.batchSize) events "
                        + "(\(duplicates) duplicates): \(answer.bodyPrefix)")
            }
        }
        report("preflight: server accepted a re-sent pool body twice")
    }

    private func runStep(_ rate: Rate, connections: [NIOLoopBound<IngestConnection>]) async throws -> StepResult {
        let label = if case .max = rate { "max (closed loop)" } else { "\(rate) ev/s" }
        // With an event budget the step is measured from its first request to its last answer.
        let budgetEvents = options.events.map { $0 - Self.preflightRequests * options.batchSize }
        let budget = budgetEvents.map { IngestSendBudget(requests: $0 / options.batchSize) }
        let warmup = budget == nil ? options.warmupSeconds : 0
        let duration = budget == nil ? options.durationSeconds : Self.budgetTimeLimitSeconds
        if let budgetEvents {
            report("rate \(label): \(budgetEvents) events (\(Self.preflightRequests * options.batchSize) more went in the preflight), no warmup")
        } else {
            report("rate \(label): \(Self.seconds(warmup)) s warmup, \(Self.seconds(duration)) s measured")
        }
        let start = NIODeadline.now() + .milliseconds(50)
        let measureStart = start + Self.timeAmount(seconds: warmup)
        let end = measureStart + Self.timeAmount(seconds: duration)
        let drain = Self.timeAmount(seconds: options.drainTimeoutSeconds)
        let requestsPerSecond: Double? = {
            if case .eventsPerSecond(let value) = rate { Double(value) / Double(options.batchSize) } else { nil }
        }()

        var futures: [EventLoopFuture<IngestConnection.StepStats>] = []
        for (index, connection) in connections.enumerated() {
            let mode: IngestConnection.Mode
            if let requestsPerSecond {
                // Connection k sends requests k, k + C, k + 2C, ... of one evenly spaced global schedule.
                let interval = Double(connections.count) / requestsPerSecond
                let phase = Double(index) / requestsPerSecond
                mode = .open(firstDue: start + Self.timeAmount(seconds: phase), interval: Self.timeAmount(seconds: interval))
            } else {
                mode = .closed
            }
            let plan = IngestConnection.StepPlan(
                start: start, measureStart: measureStart, end: end, mode: mode, drainTimeout: drain, budget: budget)
            futures.append(connection.eventLoop.flatSubmit { connection.value.runStep(plan) })
        }

        var latencies: [Int64] = []
        var result = StepResult(
            rate: rate, durationSeconds: duration, achievedEventsPerSecond: 0, requests: 0,
            acceptedEvents: 0, duplicateEvents: 0, rejectedEvents: 0, queuedRequests: 0, errors: [:],
            target: options.target, eventBudget: budgetEvents)
        var windowAccepted = 0
        var lastResponse: NIODeadline?
        for future in futures {
            let stats = try await future.get()
            latencies.append(contentsOf: stats.latencies)
            result.requests += stats.requests
            result.acceptedEvents += stats.acceptedEvents
            result.duplicateEvents += stats.duplicateEvents
            result.rejectedEvents += stats.rejectedEvents
            result.queuedRequests += stats.queued
            windowAccepted += stats.windowAcceptedEvents
            result.errors.merge(stats.errors, uniquingKeysWith: +)
            if let last = stats.lastResponse, lastResponse.map({ last > $0 }) ?? true {
                lastResponse = last
            }
        }
        latencies.sort()
        if !latencies.isEmpty {
            result.p50Millis = Self.millis(Self.quantile(latencies, 0.50))
            result.p99Millis = Self.millis(Self.quantile(latencies, 0.99))
            result.maxMillis = Self.millis(latencies[latencies.count - 1])
        }
        guard let budgetEvents else {
            result.achievedEventsPerSecond = Double(windowAccepted) / duration
            return result
        }
        let elapsed = lastResponse.map { Double(($0 - start).nanoseconds) / 1e9 } ?? 0
        let preflightEvents = Self.preflightRequests * options.batchSize
        result.durationSeconds = elapsed
        result.achievedEventsPerSecond = elapsed > 0 ? Double(result.acceptedEvents) / elapsed : 0
        report(
            String(
                format: "loaded %d events in %.2f s: %.0f events/s; with the preflight's %d, %d of %d events acknowledged",
                result.acceptedEvents, elapsed, result.achievedEventsPerSecond, preflightEvents,
                result.acceptedEvents + preflightEvents, budgetEvents + preflightEvents))
        if result.acceptedEvents != budgetEvents {
            report("warning: \(budgetEvents - result.acceptedEvents) of the step's \(budgetEvents) events were not acknowledged")
        }
        return result
    }

    /// Safety limit of a step with an event budget (it normally ends when the budget is used up).
    static let budgetTimeLimitSeconds = 86_400.0

    /// Nearest-rank quantile of sorted values.
    static func quantile(_ sorted: [Int64], _ q: Double) -> Int64 {
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    static func millis(_ nanos: Int64) -> Double { Double(nanos) / 1_000_000 }

    static func timeAmount(seconds: Double) -> TimeAmount { .nanoseconds(Int64((seconds * 1e9).rounded())) }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    private func close(_ connections: [NIOLoopBound<IngestConnection>]) async {
        let closes = connections.map { connection in
            connection.eventLoop.flatSubmit { connection.value.shutdown() }
        }
        for future in closes {
            try? await future.get()
        }
    }
}
