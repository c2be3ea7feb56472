import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PulseboardCore

/// One keep-alive HTTP/1.1 connection of the ingest benchmark, confined to its event loop: it owns
/// the request schedule of a rate step (open or closed loop), one request in flight at a time, the
/// queue of requests that came due while busy, and the step's measurements.
final class IngestConnection {
    /// Static settings of a connection.
    struct Settings: Sendable {
        var host: String
        var port: Int
        var apiKey: String?
        /// Position among the benchmark's connections; the high bits of every event id counter.
        var index: Int
        /// Request target of every POST (path and query).
        var path = IngestBenchmark.Target.pulseboard.defaultPath
        var contentType = IngestBenchmark.Target.pulseboard.contentType
        /// Whether 200 answers say how many events they took (`"accepted":N`, Pulseboard); without
        /// that (ClickHouse), a 200 answer counts the whole batch as accepted.
        var countsFromBody = true
        /// Where the first non-200 answer of the run is printed.
        var errorLog: IngestErrorLog?
        var reconnectDelay: TimeAmount = .milliseconds(100)
    }

    /// How requests are generated during a step.
    enum Mode: Sendable {
        /// Open loop: one request every `interval`, the first due at `firstDue`.
        case open(firstDue: NIODeadline, interval: TimeAmount)
        /// Closed loop: the next request as soon as the previous response arrives.
        case closed
    }

    /// One rate step: requests are generated in `[start, end)`, and measured when scheduled (and
    /// counted as throughput when answered) in `[measureStart, end)`.
    struct StepPlan: Sendable {
        var start: NIODeadline
        var measureStart: NIODeadline
        var end: NIODeadline
        var mode: Mode
        /// How long after `end` requests still queued or in flight may take before they count as timeouts.
        var drainTimeout: TimeAmount
        /// Closed loop only: the requests all connections may send in the step, shared; the step ends
        /// for a connection once the budget is used up (or at `end`, whichever comes first).
        var budget: IngestSendBudget? = nil
    }

    /// What one connection measured during a step.
    struct StepStats: Sendable {
        /// Latencies (scheduled send to full response) of 200 responses to measured requests, in ns.
        var latencies: [Int64] = []
        /// Measured requests (scheduled in the measurement window), whatever their outcome.
        var requests = 0
        var acceptedEvents = 0
        var duplicateEvents = 0
        /// Events neither accepted nor reported as duplicates in 200 responses.
        var rejectedEvents = 0
        /// Measured open-loop requests that came due while the connection was busy (or reconnecting).
        var queued = 0
        /// Events accepted by responses that arrived inside the measurement window.
        var windowAcceptedEvents = 0
        /// Failed measured requests by HTTP status, or "io" (connection lost) / "timeout" (not answered).
        var errors: [String: Int] = [:]
        /// When the last response of the step arrived.
        var lastResponse: NIODeadline?
    }

    private enum InFlight {
        case step(scheduled: NIODeadline)
        case probe(EventLoopPromise<IngestResponseSummary>)
    }

    let eventLoop: any EventLoop
    private let settings: Settings
    private let pool: IngestBodyPool
    private let headTemplate: HTTPRequestHead
    private let allocator = ByteBufferAllocator()

    private var channel: (any Channel)?
    private var handler: IngestResponseHandler?
    private var shuttingDown = false
    private var reconnectPending = false

    private var sends: UInt64 = 0
    private var cachedTimestamp: [UInt8] = []
    private var cachedTimestampAt = NIODeadline.uptimeNanoseconds(0)

    private var inFlight: InFlight?
    private var plan: StepPlan?
    private var generating = false
    private var nextDue = NIODeadline.uptimeNanoseconds(0)
    private var queue: [NIODeadline] = []
    private var queueHead = 0
    private var stats = StepStats()
    private var stepPromise: EventLoopPromise<StepStats>?
    private var tickTask: Scheduled<Void>?
    private var endTask: Scheduled<Void>?
    private var drainTask: Scheduled<Void>?

    init(settings: Settings, pool: IngestBodyPool, eventLoop: any EventLoop) {
        self.settings = settings
        self.pool = pool
        self.eventLoop = eventLoop
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(settings.host):\(settings.port)")
        headers.add(name: "Content-Type", value: settings.contentType)
        headers.add(name: "Accept", value: "application/json")
        if let key = settings.apiKey {
            headers.add(name: "Authorization", value: "Bearer \(key)")
        }
        headTemplate = HTTPRequestHead(version: .http1_1, method: .POST, uri: settings.path, headers: headers)
    }

    // MARK: Connection management

    /// Connects (once, no retry); fails if the server cannot be reached.
    func connect() -> EventLoopFuture<Void> {
        eventLoop.preconditionInEventLoop()
        return ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(IngestResponseHandler())
                }
            }
            .connect(host: settings.host, port: settings.port)
            .assumeIsolated()
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: IngestResponseHandler.self)
                if self.shuttingDown {
                    channel.close(promise: nil)
                    return
                }
                handler.connection = self
                self.handler = handler
                self.channel = channel
                self.connected()
            }
            .nonisolated()
    }

    private func connected() {
        if case .closed = plan?.mode, generating, inFlight == nil, queueCount == 0 {
            enqueueNextClosed(.now())
        }
        trySend()
    }

    /// Reconnects after `delay` (the settings' retry delay by default), retrying until it works.
    private func scheduleReconnect(after delay: TimeAmount? = nil) {
        guard !shuttingDown, !reconnectPending else { return }
        reconnectPending = true
        eventLoop.assumeIsolated().scheduleTask(in: delay ?? settings.reconnectDelay) {
            self.reconnectPending = false
            guard !self.shuttingDown, self.handler == nil else { return }
            self.connect().assumeIsolated().whenFailure { _ in self.scheduleReconnect() }
        }
    }

    /// Called by the handler when its channel closes.
    func channelClosed(_ closed: IngestResponseHandler) {
        guard closed === handler else { return }
        handler = nil
        channel = nil
        switch inFlight {
        case .step(let scheduled):
            inFlight = nil
            if isMeasured(scheduled) {
                stats.requests += 1
                stats.errors["io", default: 0] += 1
            }
        case .probe(let promise):
            inFlight = nil
            promise.fail(ChannelError.ioOnClosedChannel)
        case nil:
            break
        }
        scheduleReconnect()
        checkStepDone()
    }

    /// Closes the connection for good.
    func shutdown() -> EventLoopFuture<Void> {
        shuttingDown = true
        cancelTimers()
        let channel = self.channel
        handler?.connection = nil
        handler = nil
        self.channel = nil
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        return channel.close().recover { _ in }
    }

    // MARK: Requests

    private func send(_ inFlight: InFlight, bodyIndex: Int? = nil) -> Bool {
        guard let handler else { return false }
        let index = bodyIndex.map { $0 % pool.bodies.count }
            ?? Int((sends &+ UInt64(settings.index) &* 7) % UInt64(pool.bodies.count))
        let firstEvent = (UInt64(settings.index) << 40) | (sends &* UInt64(pool.batchSize))
        sends &+= 1
        let body = pool.bodies[index]
        var buffer = allocator.buffer(capacity: body.bytes.count)
        pool.write(index, firstEventNumber: firstEvent, timestamp: currentTimestamp(), into: &buffer)
        var head = headTemplate
        head.headers.add(name: "Content-Length", value: body.contentLength)
        guard handler.send(head: head, body: buffer) else { return false }
        self.inFlight = inFlight
        return true
    }

    /// The wall clock as a body timestamp in the pool's format, refreshed at most every 200 ms.
    private func currentTimestamp() -> [UInt8] {
        let now = NIODeadline.now()
        if cachedTimestamp.isEmpty || now - cachedTimestampAt > .milliseconds(200) {
            let millis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            let text = pool.format.timestamp(millis: millis)
            if text.count == pool.timestampLength {
                cachedTimestamp = text
                cachedTimestampAt = now
            }
        }
        return cachedTimestamp
    }

    /// Sends one request (with pool body `bodyIndex` if given) outside any step and returns the
    /// server's answer.
    func probe(bodyIndex: Int? = nil, timeout: TimeAmount = .seconds(10)) -> EventLoopFuture<IngestResponseSummary> {
        let promise = eventLoop.makePromise(of: IngestResponseSummary.self)
        guard inFlight == nil, plan == nil else {
            promise.fail(IngestBenchmarkError.preflightFailed("connection busy"))
            return promise.futureResult
        }
        guard send(.probe(promise), bodyIndex: bodyIndex) else {
            promise.fail(IngestBenchmarkError.preflightFailed("not connected"))
            return promise.futureResult
        }
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            if case .probe(let pending) = self.inFlight, pending.futureResult === promise.futureResult {
                self.inFlight = nil
                self.handler?.close()
                promise.fail(IngestBenchmarkError.preflightFailed("no response within \(timeout.nanoseconds / 1_000_000_000) s"))
            }
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }

    /// Stops using the current channel (no callbacks from it any more) and closes it.
    private func retireChannel() {
        let stale = handler
        handler = nil
        channel = nil
        stale?.connection = nil
        stale?.close()
    }

    /// Called by the handler with each complete response.
    func responseReceived(from source: IngestResponseHandler, status: Int, body: ByteBuffer, keepAlive: Bool) {
        guard source === handler else { return }
        let now = NIODeadline.now()
        if !keepAlive {
            // The server closes after this response: never send on this channel again.
            retireChannel()
            scheduleReconnect(after: .zero)
        }
        switch inFlight {
        case .probe(let promise):
            inFlight = nil
            promise.succeed(IngestResponseSummary(status: status, body: body))
        case .step(let scheduled):
            inFlight = nil
            record(scheduled: scheduled, now: now, status: status, body: body)
            if case .closed = plan?.mode, generating {
                enqueueNextClosed(now)
            }
        case nil:
            break
        }
        trySend()
        checkStepDone()
    }

    private func record(scheduled: NIODeadline, now: NIODeadline, status: Int, body: ByteBuffer) {
        guard let plan else { return }
        var accepted = 0
        var duplicates = 0
        if status == 200 {
            if settings.countsFromBody {
                accepted = IngestResponseSummary.intField(#""accepted":"#, in: body) ?? pool.batchSize
                duplicates = IngestResponseSummary.intField(#""duplicates":"#, in: body) ?? 0
            } else {
                accepted = pool.batchSize
            }
        } else {
            // Refused outright: another send may use its share of the budget.
            plan.budget?.giveBack()
            if let log = settings.errorLog, log.isArmed {
                log.reportOnce("warning: HTTP \(status) from the server (later ones only counted): \(IngestResponseSummary(status: status, body: body).bodyPrefix)")
            }
        }
        stats.lastResponse = now
        if now >= plan.measureStart, now < plan.end {
            stats.windowAcceptedEvents += accepted
        }
        guard isMeasured(scheduled) else { return }
        stats.requests += 1
        if status == 200 {
            stats.latencies.append((now - scheduled).nanoseconds)
            stats.acceptedEvents += accepted
            stats.duplicateEvents += duplicates
            stats.rejectedEvents += max(0, pool.batchSize - accepted - duplicates)
        } else {
            stats.errors[String(status), default: 0] += 1
        }
    }

    private func isMeasured(_ scheduled: NIODeadline) -> Bool {
        guard let plan else { return false }
        return scheduled >= plan.measureStart && scheduled < plan.end
    }

    // MARK: Steps

    /// Runs one rate step; the future completes once every request generated in the step has been
    /// answered or timed out.
    func runStep(_ plan: StepPlan) -> EventLoopFuture<StepStats> {
        eventLoop.preconditionInEventLoop()
        precondition(stepPromise == nil, "a step is already running")
        let promise = eventLoop.makePromise(of: StepStats.self)
        stepPromise = promise
        self.plan = plan
        stats = StepStats()
        generating = true
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
        let loop = eventLoop.assumeIsolated()
        switch plan.mode {
        case .open(let firstDue, _):
            nextDue = firstDue
            tickTask = loop.scheduleTask(deadline: firstDue) { self.tick() }
        case .closed:
            tickTask = loop.scheduleTask(deadline: plan.start) {
                self.enqueueNextClosed(.now())
                self.trySend()
            }
        }
        endTask = loop.scheduleTask(deadline: plan.end) { self.stopGenerating() }
        return promise.futureResult
    }

    /// Open loop: queues every request that has come due and arms the timer for the next one.
    private func tick() {
        guard generating, let plan, case .open(_, let interval) = plan.mode else { return }
        let now = NIODeadline.now()
        while nextDue <= now, nextDue < plan.end {
            enqueue(nextDue)
            nextDue = nextDue + interval
        }
        trySend()
        if nextDue < plan.end {
            tickTask = eventLoop.assumeIsolated().scheduleTask(deadline: nextDue) { self.tick() }
        }
    }

    private var queueCount: Int { queue.count - queueHead }

    /// Closed loop: queues the next request, if the step's budget (when it has one) allows another;
    /// otherwise this connection is done generating.
    private func enqueueNextClosed(_ scheduled: NIODeadline) {
        if let budget = plan?.budget, !budget.claim() {
            generating = false
            tickTask?.cancel()
            tickTask = nil
            checkStepDone()
            return
        }
        enqueue(scheduled)
    }

    private func enqueue(_ scheduled: NIODeadline) {
        if case .open = plan?.mode, isMeasured(scheduled), inFlight != nil || queueCount > 0 || handler == nil {
            stats.queued += 1
        }
        queue.append(scheduled)
    }

    private func trySend() {
        guard inFlight == nil, handler != nil, queueCount > 0 else { return }
        let scheduled = queue[queueHead]
        guard send(.step(scheduled: scheduled)) else { return }
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        } else if queueHead >= 1024, queueHead * 2 >= queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
    }

    private func stopGenerating() {
        guard let plan, stepPromise != nil else { return }
        generating = false
        tickTask?.cancel()
        tickTask = nil
        drainTask = eventLoop.assumeIsolated().scheduleTask(in: plan.drainTimeout) { self.drainExpired() }
        checkStepDone()
    }

    private func drainExpired() {
        guard stepPromise != nil else { return }
        var unanswered = queue[queueHead...].filter(isMeasured).count
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
        if case .step(let scheduled) = inFlight {
            if isMeasured(scheduled) { unanswered += 1 }
            // The answer may still come; drop the connection so it cannot leak into the next step.
            inFlight = nil
            retireChannel()
            scheduleReconnect()
        }
        if unanswered > 0 {
            stats.requests += unanswered
            stats.errors["timeout", default: 0] += unanswered
        }
        finishStep()
    }

    private func checkStepDone() {
        guard stepPromise != nil, !generating, inFlight == nil, queueCount == 0 else { return }
        finishStep()
    }

    private func finishStep() {
        cancelTimers()
        let promise = stepPromise
        let result = stats
        stepPromise = nil
        plan = nil
        stats = StepStats()
        promise?.succeed(result)
    }

    private func cancelTimers() {
        tickTask?.cancel()
        endTask?.cancel()
        drainTask?.cancel()
        tickTask = nil
        endTask = nil
        drainTask = nil
    }
}
