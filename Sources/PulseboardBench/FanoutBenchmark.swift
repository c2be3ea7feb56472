import Foundation
import NIOCore

/// Fan-out load client: holds N subscribers to one dashboard over SSE or WebSocket and measures,
/// for every frame pushed while they are connected, the delay from the frame's server timestamp
/// (`ts`) to its arrival at each subscriber, plus how many deliveries arrived of those expected and
/// (given the server's pid) the server's CPU time per delivery and memory per subscriber.
///
/// Subscribers are plain TCP connections parsed on raw bytes (no HTTP or WebSocket pipeline), all
/// on one event loop thread per process, bound round-robin to source addresses 127.0.0.2,
/// 127.0.0.3, … so ephemeral ports never run out. Past `subscribersPerWorker` subscribers the
/// benchmark starts child processes (`pulseboard bench fanout --worker …`, each with its own event
/// loop and below the per-process file limit) and merges their measurements.
///
/// It also reads peers such as Nchan: any SSE event without an `event:` line, or WebSocket text
/// message, whose JSON holds a `"ts"` counts as a frame (`"seq"`, when present, identifies it).
public struct FanoutBenchmark: Sendable {
    /// How subscribers connect.
    public enum Transport: String, Sendable, Codable, CaseIterable {
        /// `GET` an event stream (Server-Sent Events).
        case sse
        /// Upgrade to a WebSocket.
        case webSocket = "ws"
    }

    /// What to run, and against which server.
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var subscribers = 1000
        public var transport = Transport.sse
        public var dashboard = "wallboard"
        /// Request path instead of Pulseboard's (`/api/stream/<dashboard>` or `/ws`). With a path
        /// given, WebSocket subscribers send no subscribe message (peers subscribe by URL).
        public var path: String?
        /// Name of the server in the results table.
        public var serverLabel = "pulseboard"
        /// Measured seconds per window.
        public var durationSeconds = 20.0
        /// Measured windows over the same connections, one result each (repeats without
        /// reconnecting; consecutive windows are `graceSeconds` apart).
        public var windows = 1
        /// Seconds between the last subscriber connecting and the measurement.
        public var warmupSeconds = 5.0
        /// How long after the window deliveries of frames stamped inside it are still awaited.
        public var graceSeconds = 3.0
        /// Seconds of server CPU sampled before connecting (its idle load, e.g. demo traffic).
        public var baselineSeconds = 2.0
        /// Server process whose CPU time and RSS are sampled.
        public var serverPID: Int32?
        /// Subscribers per client process; more start child processes.
        public var subscribersPerWorker = 8000
        /// Subscribers per loopback source address.
        public var subscribersPerAddress = 4000
        /// Connects in flight at once per process.
        public var maxConnecting = 256
        public var connectTimeoutSeconds = 15
        /// argv prefix that runs a worker process; the worker's settings JSON is appended.
        public var workerCommand: [String] = []
        /// Receives progress lines (e.g. to print on stderr).
        public var progress: (@Sendable (String) -> Void)?

        public init() {}
    }

    /// What one run measured.
    public struct Result: Sendable {
        public var serverLabel: String
        public var transport: Transport
        public var subscribers: Int
        /// Subscribers whose stream opened.
        public var ready: Int
        public var processes: Int
        public var connectSeconds: Double
        public var windowSeconds: Double
        /// Deliveries of frames stamped inside the window.
        public var delivered: Int
        /// Distinct frames stamped inside the window, seen by any subscriber.
        public var distinctFrames: Int
        /// `distinctFrames × subscribers`.
        public var expected: Int
        public var p50Millis: Double?
        public var p99Millis: Double?
        public var maxMillis: Double?
        /// Failed connects and errors after connecting (disconnects, error messages), by reason.
        public var errors: [String: Int]
        /// Server CPU over the window, as % of one core; nil without a server pid.
        public var serverCPUPercent: Double?
        /// Server CPU before connecting, as % of one core.
        public var baselineCPUPercent: Double?
        /// Server CPU time over the window divided by deliveries, in µs.
        public var cpuMicrosPerDelivery: Double?
        /// The same, less the baseline CPU rate (what the fan-out itself costs).
        public var netCPUMicrosPerDelivery: Double?
        /// (RSS at the window's end − RSS before connecting) / ready subscribers, in KiB.
        public var rssKiBPerSubscriber: Double?
        public var rssBeforeKiB: Int?
        public var rssAfterKiB: Int?

        public var errorCount: Int { errors.values.reduce(0, +) }
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Connects every subscriber, waits the warmup, measures the windows, then closes them.
    public func run() async throws -> [Result] {
        try validate()
        let pid = options.serverPID
        let before = try pid.map { try ServerProcessSample.read(pid: $0) }
        var baseline: Double?
        if let pid, let before, options.baselineSeconds > 0 {
            try await Task.sleep(nanoseconds: UInt64(options.baselineSeconds * 1e9))
            let after = try ServerProcessSample.read(pid: pid)
            baseline = ServerProcessSample.cpuSeconds(from: before, to: after) / (after.uptime - before.uptime)
        }

        let settings = workerSettings()
        report(
            "\(options.serverLabel) \(options.transport.rawValue): \(options.subscribers) subscribers in \(settings.count) "
                + "process(es), \(settings.first?.sourceAddresses ?? 0) source address(es)")
        var workers: [any FanoutWorkerControl] = []
        do {
            if settings.count == 1 {
                workers.append(try await FanoutWorker.start(settings[0]))
            } else {
                for (index, s) in settings.enumerated() {
                    workers.append(try FanoutWorkerProcess(command: options.workerCommand, settings: s, label: "worker \(index + 1)"))
                }
            }
            let result = try await measure(workers, before: before, baseline: baseline)
            for worker in workers { await worker.shutdown() }
            return result
        } catch {
            for worker in workers { await worker.shutdown() }
            throw error
        }
    }

    private func measure(
        _ workers: [any FanoutWorkerControl], before: ServerProcessSample?, baseline: Double?
    ) async throws -> [Result] {
        let summaries = try await withThrowingTaskGroup(of: FanoutSubscriberGroup.ConnectSummary.self) { group in
            for worker in workers { group.addTask { try await worker.connect() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ready = summaries.reduce(0) { $0 + $1.ready }
        let connectSeconds = summaries.map(\.seconds).max() ?? 0
        var connectErrors: [String: Int] = [:]
        for s in summaries { connectErrors.merge(s.errors, uniquingKeysWith: +) }
        report(
            "connected \(ready) of \(options.subscribers) in \(String(format: "%.1f", connectSeconds)) s"
                + (connectErrors.isEmpty ? "" : "; failed: " + Self.describe(connectErrors)))
        guard ready > 0 else { throw FanoutBenchmarkError.noSubscribers(Self.describe(connectErrors)) }

        var start = FanoutSubscriberHandler.wallClockMicros() + Int64(options.warmupSeconds * 1e6)
        let grace = Int64(options.graceSeconds * 1e6)
        report(
            "warmup \(Self.seconds(options.warmupSeconds)) s, measuring \(options.windows) x \(Self.seconds(options.durationSeconds)) s")
        var results: [Result] = []
        for index in 0..<options.windows {
            let window = start..<(start + Int64(options.durationSeconds * 1e6))
            let last = index == options.windows - 1
            let reports = Task {
                try await withThrowingTaskGroup(of: FanoutWorkerReport.self) { group in
                    for worker in workers { group.addTask { try await worker.measure(window: window, graceMicros: grace, last: last) } }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            var windowStart: ServerProcessSample?
            var windowEnd: ServerProcessSample?
            if let pid = options.serverPID {
                try await Self.sleep(untilWallMicros: window.lowerBound)
                windowStart = try ServerProcessSample.read(pid: pid)
                try await Self.sleep(untilWallMicros: window.upperBound)
                windowEnd = try ServerProcessSample.read(pid: pid)
            }
            let workerReports = try await reports.value
            results.append(
                aggregate(
                    workerReports, ready: ready, processes: workers.count, connectSeconds: connectSeconds, connectErrors: connectErrors,
                    before: before, baseline: baseline, windowStart: windowStart, windowEnd: windowEnd))
            // The next window opens once this one's late frames had their grace.
            start = max(window.upperBound + grace, FanoutSubscriberHandler.wallClockMicros()) + 100_000
        }
        return results
    }

    private func aggregate(
        _ reports: [FanoutWorkerReport], ready: Int, processes: Int, connectSeconds: Double, connectErrors: [String: Int],
        before: ServerProcessSample?, baseline: Double?, windowStart: ServerProcessSample?, windowEnd: ServerProcessSample?
    ) -> Result {
        var keys = Set<Int64>()
        var subscribersByPhase: [Int: Int] = [:]
        var latencies: [Int64] = []
        latencies.reserveCapacity(reports.reduce(0) { $0 + $1.latenciesMicros.count })
        var errors = connectErrors
        var delivered = 0
        for r in reports {
            keys.formUnion(r.frameKeys)
            subscribersByPhase.merge(r.subscribersByPhase, uniquingKeysWith: +)
            latencies.append(contentsOf: r.latenciesMicros)
            errors.merge(r.errors, uniquingKeysWith: +)
            delivered += r.delivered
        }
        latencies.sort()
        // Each subscriber is expected to get every frame of its phase (a topic with more
        // subscribers than `push.phase_size` is several streams); those whose phase is unknown
        // (no snapshot: a peer) count in phase 0.
        subscribersByPhase[0, default: 0] += max(0, options.subscribers - subscribersByPhase.values.reduce(0, +))
        let framesByPhase = Dictionary(grouping: keys, by: FanoutFrameStamp.phase(of:)).mapValues(\.count)
        let expected = framesByPhase.reduce(0) { $0 + $1.value * (subscribersByPhase[$1.key] ?? 0) }
        var result = Result(
            serverLabel: options.serverLabel, transport: options.transport, subscribers: options.subscribers, ready: ready,
            processes: processes, connectSeconds: connectSeconds, windowSeconds: options.durationSeconds, delivered: delivered,
            distinctFrames: keys.count, expected: expected, errors: errors)
        if !latencies.isEmpty {
            result.p50Millis = Double(Self.quantile(latencies, 0.50)) / 1000
            result.p99Millis = Double(Self.quantile(latencies, 0.99)) / 1000
            result.maxMillis = Double(latencies[latencies.count - 1]) / 1000
        }
        if let before, let windowStart, let windowEnd {
            let seconds = windowEnd.uptime - windowStart.uptime
            let cpu = ServerProcessSample.cpuSeconds(from: windowStart, to: windowEnd)
            result.windowSeconds = seconds
            result.serverCPUPercent = cpu / seconds * 100
            result.baselineCPUPercent = baseline.map { $0 * 100 }
            if delivered > 0 {
                result.cpuMicrosPerDelivery = cpu * 1e6 / Double(delivered)
                if let baseline {
                    result.netCPUMicrosPerDelivery = max(0, cpu - baseline * seconds) * 1e6 / Double(delivered)
                }
            }
            result.rssBeforeKiB = before.rssKiB
            result.rssAfterKiB = windowEnd.rssKiB
            result.rssKiBPerSubscriber = Double(windowEnd.rssKiB - before.rssKiB) / Double(ready)
        }
        return result
    }

    /// Splits the subscribers over worker processes of at most `subscribersPerWorker` each.
    func workerSettings() -> [FanoutWorker.Settings] {
        let processes = max(1, (options.subscribers + options.subscribersPerWorker - 1) / options.subscribersPerWorker)
        let addresses = Self.isIPv4Loopback(options.host)
            ? max(1, (options.subscribers + options.subscribersPerAddress - 1) / options.subscribersPerAddress) : 0
        let path: String
        var subscribe: String?
        if let override = options.path {
            path = override
        } else if options.transport == .sse {
            path = "/api/stream/\(options.dashboard)"
        } else {
            path = "/ws"
            subscribe = #"{"op":"subscribe","dashboard":"\#(options.dashboard)"}"#
        }
        var settings: [FanoutWorker.Settings] = []
        var offset = 0
        for index in 0..<processes {
            let count = options.subscribers / processes + (index < options.subscribers % processes ? 1 : 0)
            settings.append(
                FanoutWorker.Settings(
                    host: options.host, port: options.port, transport: options.transport, path: path, subscribeMessage: subscribe,
                    subscribers: count, indexOffset: offset, sourceAddresses: addresses, maxConnecting: options.maxConnecting,
                    connectTimeoutSeconds: options.connectTimeoutSeconds))
            offset += count
        }
        return settings
    }

    private func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw FanoutBenchmarkError.invalidOptions(message) }
        }
        try check(options.port > 0 && options.port < 65_536, "port must be in 1...65535")
        try check(options.subscribers >= 1 && options.subscribers <= 200_000, "subscribers must be in 1...200000")
        try check(options.durationSeconds > 0, "duration must be positive")
        try check(options.windows >= 1 && options.windows <= 100, "windows must be 1…100")
        try check(options.warmupSeconds >= 0 && options.graceSeconds >= 0 && options.baselineSeconds >= 0, "times must not be negative")
        try check(options.subscribersPerWorker >= 1 && options.subscribersPerWorker <= 18_000, "subscribers per worker must be in 1...18000")
        try check(options.subscribersPerAddress >= 1, "subscribers per address must be at least 1")
        try check(options.maxConnecting >= 1, "max connecting must be at least 1")
        try check(options.path.map { $0.hasPrefix("/") } ?? true, "path must start with /")
        try check(!options.dashboard.isEmpty && !options.dashboard.contains("\""), "bad dashboard id")
        let processes = (options.subscribers + options.subscribersPerWorker - 1) / options.subscribersPerWorker
        try check(processes <= 1 || !options.workerCommand.isEmpty, "more than one worker needs a worker command")
        if Self.isIPv4Loopback(options.host) {
            let addresses = (options.subscribers + options.subscribersPerAddress - 1) / options.subscribersPerAddress
            try check(addresses <= 253, "too many source addresses: raise subscribers per address")
        }
    }

    private func report(_ line: String) {
        options.progress?(line)
    }

    static func isIPv4Loopback(_ host: String) -> Bool {
        host.hasPrefix("127.") && host.split(separator: ".").count == 4
    }

    /// Nearest-rank quantile of sorted values.
    static func quantile(_ sorted: [Int64], _ q: Double) -> Int64 {
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count - 1, max(0, rank - 1))]
    }

    static func sleep(untilWallMicros target: Int64) async throws {
        let wait = target - FanoutSubscriberHandler.wallClockMicros()
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait) * 1000) }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }

    static func describe(_ errors: [String: Int]) -> String {
        errors.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
    }

    // MARK: Worker mode

    /// Runs one worker in a child process (`pulseboard bench fanout --worker <settings JSON>`):
    /// connects, prints `ready <JSON>`, waits for `go <start µs> <end µs> <grace µs>` on stdin,
    /// measures, prints `report <JSON>`, once per window (`go … 1` is the last). Exits as soon as
    /// stdin closes (the parent is gone).
    public static func runWorker(settingsJSON: String) async throws {
        let settings: FanoutWorker.Settings
        do {
            settings = try JSONDecoder().decode(FanoutWorker.Settings.self, from: Data(settingsJSON.utf8))
        } catch {
            throw FanoutBenchmarkError.invalidOptions("bad worker settings: \(error)")
        }
        // The parent closes our stdin when it is done with us, or when it dies: either way, leave.
        let lines = FanoutLineReader(FileHandle.standardInput) { exit(0) }
        let worker = try await FanoutWorker.start(settings)
        let summary = try await worker.connect()
        try writeLine("ready", summary)
        while true {
            guard let go = await lines.next() else { exit(3) }
            let parts = go.split(separator: " ")
            guard parts.count == 5, parts[0] == "go", let start = Int64(parts[1]), let end = Int64(parts[2]),
                let grace = Int64(parts[3]), start < end
            else {
                throw FanoutBenchmarkError.invalidOptions("bad go line: \(go)")
            }
            let last = parts[4] == "1"
            let result = try await worker.measure(window: start..<end, graceMicros: grace, last: last)
            try writeLine("report", result)
            if last { break }
        }
        await worker.shutdown()
    }

    private static func writeLine(_ tag: String, _ value: some Encodable) throws {
        var data = Data((tag + " ").utf8)
        data.append(try JSONEncoder().encode(value))
        data.append(10)
        try FileHandle.standardOutput.write(contentsOf: data)
    }
}
