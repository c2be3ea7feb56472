import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import PulseboardCore
import Synchronization

/// The fan-out hub. One topic per (dashboard, variable values): every `refresh_ms` it computes
/// the frame, diffs it against the last one (RFC 7386 merge patch), encodes the delta **once**
/// per transport and hands the same bytes to every subscriber, with one task per event loop that
/// writes them from the loop that owns the sockets. It never waits on a subscriber. Topics
/// without subscribers stop ticking and are forgotten after the delta retention.
///
/// A topic with many subscribers runs in phases (`push.phase_size` each, at most
/// `push.max_phases`): each phase is a topic of its own (its own frames, seq and deltas) that
/// ticks at its own offset within the refresh, so 10,000 subscribers are written in ten bursts
/// of 1,000 spread over the second instead of one burst that the last of them waits ~100 ms for.
public final class Hub: Sendable {
    /// A topic's subscribers that live on one event loop: an array to deliver from, and where
    /// each one is in it, so that removal is O(1) (the last one takes the gap).
    struct LoopMembers {
        let loop: any EventLoop
        private(set) var list: [any PushSubscriber] = []
        private var places: [ObjectIdentifier: Int] = [:]

        init(loop: any EventLoop) { self.loop = loop }

        var isEmpty: Bool { list.isEmpty }

        mutating func insert(_ subscriber: any PushSubscriber) {
            let id = ObjectIdentifier(subscriber)
            if let i = places[id] { list[i] = subscriber; return }
            places[id] = list.count
            list.append(subscriber)
        }

        /// Whether `subscriber` was a member.
        mutating func remove(_ subscriber: any PushSubscriber) -> Bool {
            guard let i = places.removeValue(forKey: ObjectIdentifier(subscriber)) else { return false }
            let last = list.removeLast()
            if i < list.count {
                list[i] = last
                places[ObjectIdentifier(last)] = i
            }
            return true
        }
    }

    struct Topic {
        let key: String
        /// The key of the topic this is a phase of (`key` itself for phase 0).
        let base: String
        let phase: Int
        let spec: DashboardSpec
        let variables: [String: String]
        var seq: UInt64
        var frame: JSONValue
        var widgets: JSONValue
        /// The firing alerts in `frame`, by rule id.
        var alerts: JSONValue
        /// The snapshot of `frame`, encoded on first request.
        var snapshotEvent: EncodedFrame?
        var recent: Deque<(seq: UInt64, timeMs: Int64, event: EncodedFrame)> = []
        var loops: [ObjectIdentifier: LoopMembers] = [:]
        var subscriberCount = 0
        /// Subscribers reading permessage-deflate: compress only when there are some.
        var deflateCount = 0
        var nextTickMs: Int64
        var idleSinceMs: Int64?
    }

    /// The connections of one event loop, swept there once a second.
    struct LoopConnections {
        let loop: any EventLoop
        var members: [ObjectIdentifier: any PushConnection] = [:]
    }

    struct State {
        var topics: [String: Topic] = [:]
        var connections: [ObjectIdentifier: LoopConnections] = [:]
        var lastSweepMs: Int64 = 0
        let deflater = Deflater()
    }

    public let configuration: PushConfiguration
    let ingestor: Ingestor
    let frames = FrameBuilder()
    let state: NIOLockedValueBox<State>
    let telemetry: Telemetry
    let streams = Atomic<Int>(0)

    /// Industry benchmarks for `compare: ["benchmark"]`.
    let benchmarks: [KPI: Double]
    /// Alerts for frames (`alerts`) and `alert_list` widgets.
    public let alerts: AlertLog?

    public init(
        configuration: PushConfiguration, ingestor: Ingestor, telemetry: Telemetry, benchmarks: [KPI: Double] = [:], alerts: AlertLog? = nil
    ) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.benchmarks = benchmarks
        self.alerts = alerts
        self.telemetry = telemetry
        self.state = NIOLockedValueBox(State())
    }

    /// The hub's clock (the ingestor's), in epoch milliseconds.
    public func nowMillis() -> Int64 { ingestor.nowMillis() }

    /// The topic key: dashboard id plus variable values in name order (its phase 0).
    public static func topicKey(dashboard: String, variables: [String: String]) -> String {
        dashboard + "?" + variables.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value }.joined(separator: "&")
    }

    /// The key of phase `phase` of the topic `base`.
    static func phaseKey(_ base: String, _ phase: Int) -> String {
        phase == 0 ? base : base + "#" + String(phase)
    }

    /// Phase `p`'s seqs start at `p << phaseSeqShift` above the creation time in ms (2^44 ms is
    /// 557 years), so the phases of a topic never share a seq and a resume point names its phase.
    static let phaseSeqShift: UInt64 = 44

    /// How many phases a topic with this refresh may run in.
    func phaseCount(refreshMs: Int) -> Int {
        guard configuration.phaseSize > 0 else { return 1 }
        return max(1, min(configuration.maxPhases, refreshMs / 50))
    }

    /// How far apart the phases of a topic with this refresh tick.
    func phaseStepMs(refreshMs: Int) -> Int64 {
        Int64(refreshMs) / Int64(phaseCount(refreshMs: refreshMs))
    }

    /// The phase a new subscriber of `base` joins: the one its resume point `since` came from
    /// when that is still live, else the first with room, else the least filled.
    func choosePhase(base: String, refreshMs: Int, since: UInt64?, in s: State) -> (key: String, phase: Int) {
        let phases = phaseCount(refreshMs: refreshMs)
        guard phases > 1 else { return (base, 0) }
        if let since, case let p = Int(since >> Hub.phaseSeqShift), p < phases, s.topics[Hub.phaseKey(base, p)] != nil {
            return (Hub.phaseKey(base, p), p)
        }
        var best = (key: base, phase: 0, count: Int.max)
        for p in 0..<phases {
            let key = Hub.phaseKey(base, p)
            let count = s.topics[key]?.subscriberCount ?? 0
            if count < configuration.phaseSize { return (key, p) }
            if count < best.count { best = (key, p, count) }
        }
        return (best.key, best.phase)
    }

    /// When a new phase `phase` of `base` first ticks: its place in the schedule of the phases
    /// still live (phase q ticks q steps of refresh / phases after phase 0), within the next
    /// refresh; a topic's first phase ticks a refresh from now.
    func firstTick(base: String, phase: Int, refreshMs: Int, nowMs: Int64, in s: State) -> Int64 {
        let refresh = Int64(refreshMs)
        let phases = phaseCount(refreshMs: refreshMs)
        guard phases > 1, let live = (0..<phases).lazy.compactMap({ s.topics[Hub.phaseKey(base, $0)] }).first else {
            return nowMs + refresh
        }
        var t = live.nextTickMs + Int64(phase - live.phase) * phaseStepMs(refreshMs: refreshMs)
        while t > nowMs + refresh { t -= refresh }
        while t <= nowMs { t += refresh }
        return t
    }

    func computeWidgets(_ spec: DashboardSpec, _ variables: [String: String]) -> JSONValue {
        frames.widgets(spec, variables: variables, source: frameSource())
    }

    /// The values of one frame, read now.
    public func frameSource(nowMs: Int64? = nil) -> LiveFrameSource {
        LiveFrameSource(ingestor: ingestor, benchmarks: benchmarks, alerts: alerts, nowMs: nowMs ?? ingestor.nowMillis())
    }

    /// A frame's `alerts`: the firing alerts by rule id.
    public func alertsObject() -> JSONValue {
        .object((alerts?.firing ?? []).map { ($0.rule, $0.json) })
    }

    /// What a new subscriber writes first.
    public struct Subscribed: Sendable {
        /// The topic key, for `unsubscribe` and `snapshot`.
        public var key: String
        /// The deltas after `since` when still held, otherwise one snapshot, in the subscriber's encoding.
        public var initial: [ByteBuffer]
        /// The seq those frames bring the subscriber to.
        public var seq: UInt64
    }

    /// Subscribes `subscriber` to the topic of `spec` × `variables` (resolved). Call it on the
    /// subscriber's event loop and write `initial` before returning to the loop: deltas after
    /// `seq` then arrive through `deliver`, in order.
    public func subscribe(
        spec: DashboardSpec, variables: [String: String], since: UInt64?, subscriber: any PushSubscriber
    ) throws(SubscribeError) -> Subscribed {
        let base = Hub.topicKey(dashboard: spec.id, variables: variables)
        let now = ingestor.nowMillis()
        let exists = state.withLockedValue { s in
            s.topics[choosePhase(base: base, refreshMs: spec.refreshMs, since: since, in: s).key] != nil
        }
        let fresh: JSONValue? = exists ? nil : computeWidgets(spec, variables)
        let alerts = exists ? JSONValue.object([]) : alertsObject()
        let result: Result<Subscribed, SubscribeError> = state.withLockedValue { s in
            let (key, phase) = choosePhase(base: base, refreshMs: spec.refreshMs, since: since, in: s)
            if s.topics[key] == nil {
                guard s.topics.values.contains(where: { $0.base == base }) || Hub.liveTopics(s) < configuration.maxTopics else {
                    return .failure(SubscribeError("too_many_topics", "the server already serves \(configuration.maxTopics) live topics (push.max_topics)"))
                }
                let widgets = fresh ?? computeWidgets(spec, variables)
                // A topic's first seq is its creation time in epoch ms (plus its phase's offset),
                // and it grows by one per delta (at most 10/s): a seq from an earlier topic, or
                // another server run, is always below it, so a stale resume point gets a fresh
                // snapshot.
                let first = UInt64(max(1, now)) + UInt64(phase) << Hub.phaseSeqShift
                s.topics[key] = Topic(
                    key: key, base: base, phase: phase, spec: spec, variables: variables, seq: first,
                    frame: frames.frame(dashboard: spec.id, seq: first, timestampMs: now, widgets: widgets, alerts: alerts),
                    widgets: widgets, alerts: alerts,
                    nextTickMs: firstTick(base: base, phase: phase, refreshMs: spec.refreshMs, nowMs: now, in: s))
            }
            // Taken out while it changes, so its member storage is not shared, hence not copied.
            var topic = s.topics.removeValue(forKey: key)!
            let loopId = ObjectIdentifier(subscriber.eventLoop)
            topic.loops[loopId, default: LoopMembers(loop: subscriber.eventLoop)].insert(subscriber)
            topic.subscriberCount += 1
            if subscriber.encoding == .webSocketDeflate { topic.deflateCount += 1 }
            topic.idleSinceMs = nil
            let encoding = subscriber.encoding
            let held = since.map { s in
                s <= topic.seq && (s == topic.seq || (topic.recent.first.map { $0.seq <= s + 1 } ?? false))
            } ?? false
            let initial: [ByteBuffer]
            if held, let since {
                initial = topic.recent.filter { $0.seq > since }.map { encoded($0.event, for: encoding, deflater: s.deflater) }
            } else {
                initial = [Hub.snapshotEvent(&topic, deflater: s.deflater).bytes(for: encoding)]
            }
            s.topics[key] = topic
            return .success(Subscribed(key: key, initial: initial, seq: topic.seq))
        }
        return try result.get()
    }

    /// `event` for `encoding`, compressing a delta encoded before the topic had deflate readers.
    func encoded(_ event: EncodedFrame, for encoding: PushEncoding, deflater: Deflater) -> ByteBuffer {
        if encoding == .webSocketDeflate && event.wsDeflate == nil { return Hub.deflate(event.ws, deflater) }
        return event.bytes(for: encoding)
    }

    /// A WebSocket frame compressed (the payload of `frame` after its header).
    static func deflate(_ frame: ByteBuffer, _ deflater: Deflater) -> ByteBuffer {
        var f = frame
        let first = f.readInteger(as: UInt8.self) ?? 0
        let len = f.readInteger(as: UInt8.self) ?? 0
        if len & 0x7F == 126 { f.moveReaderIndex(forwardBy: 2) } else if len & 0x7F == 127 { f.moveReaderIndex(forwardBy: 8) }
        let compressed = deflater.compress(Array(f.readableBytesView))
        return PushWire.webSocketFrame(PushWire.Opcode(rawValue: first & 0x0F) ?? .text, payload: compressed, compressed: true)
    }

    static func snapshotEvent(_ topic: inout Topic, deflater: Deflater) -> EncodedFrame {
        if var cached = topic.snapshotEvent {
            if topic.deflateCount > 0 && cached.wsDeflate == nil {
                cached.wsDeflate = deflate(cached.ws, deflater)
                topic.snapshotEvent = cached
            }
            return cached
        }
        var ws: [(String, JSONValue)] = [("type", .string("snapshot"))]
        if case .object(let members) = topic.frame { ws += members }
        let wsFrame = PushWire.webSocketFrame(.text, payload: JSONValue.object(ws).jsonBytes)
        let event = EncodedFrame(
            sse: PushWire.sseEvent(id: topic.seq, event: "snapshot", json: topic.frame.jsonBytes), ws: wsFrame,
            wsDeflate: topic.deflateCount > 0 ? deflate(wsFrame, deflater) : nil)
        topic.snapshotEvent = event
        return event
    }

    /// Removes `subscriber` from topic `key`.
    public func unsubscribe(key: String, subscriber: any PushSubscriber) {
        let now = ingestor.nowMillis()
        state.withLockedValue { s in
            guard var t = s.topics.removeValue(forKey: key) else { return }
            defer { s.topics[key] = t }
            let loopId = ObjectIdentifier(subscriber.eventLoop)
            guard t.loops[loopId]?.remove(subscriber) == true else { return }
            if t.loops[loopId]?.isEmpty == true { t.loops[loopId] = nil }
            t.subscriberCount -= 1
            if subscriber.encoding == .webSocketDeflate { t.deflateCount -= 1 }
            if t.subscriberCount == 0 { t.idleSinceMs = now }
        }
    }

    /// The current snapshot in `encoding` and its seq (for a subscriber that must resynchronise).
    public func snapshot(key: String, encoding: PushEncoding) -> (bytes: ByteBuffer, seq: UInt64)? {
        state.withLockedValue { s in
            guard var t = s.topics[key] else { return nil }
            let e = Hub.snapshotEvent(&t, deflater: s.deflater)
            s.topics[key] = t
            return (e.bytes(for: encoding), t.seq)
        }
    }

    /// The current frame of a live topic, if any.
    public func frame(key: String) -> JSONValue? {
        state.withLockedValue { $0.topics[key]?.frame }
    }

    /// When the next topic with subscribers is due (hub clock, epoch ms); nil when none is live.
    public func nextDueMillis() -> Int64? {
        state.withLockedValue { s in s.topics.values.lazy.filter { $0.subscriberCount > 0 }.map(\.nextTickMs).min() }
    }

    /// Computes the frames of the topics that are due and publishes a delta where anything
    /// changed; once a second, sweeps every connection on its loop.
    public func tick() {
        let now = ingestor.nowMillis()
        let retention = Int64(configuration.deltaRetentionSeconds) * 1000
        let due: [(String, DashboardSpec, [String: String])] = state.withLockedValue { s in
            for (key, t) in s.topics where t.idleSinceMs.map({ now - $0 >= retention }) ?? false { s.topics[key] = nil }
            return s.topics.values.filter { $0.subscriberCount > 0 && $0.nextTickMs <= now }.map { ($0.key, $0.spec, $0.variables) }
        }
        let alerts = due.isEmpty ? JSONValue.object([]) : alertsObject()
        for (key, spec, variables) in due {
            let widgets = computeWidgets(spec, variables)
            let publish: (EncodedFrame, UInt64, [LoopMembers])? = state.withLockedValue { s in
                guard var t = s.topics.removeValue(forKey: key) else { return nil }
                defer { s.topics[key] = t }
                t.nextTickMs = max(t.nextTickMs + Int64(spec.refreshMs), now)
                let patch = JSONMergePatch.diff(t.widgets, widgets)
                let alertsPatch = JSONMergePatch.diff(t.alerts, alerts)
                guard patch != nil || alertsPatch != nil else { return nil }
                t.seq += 1
                let ts = Timestamp.format(millis: now)
                t.widgets = widgets
                t.alerts = alerts
                t.frame = frames.frame(dashboard: spec.id, seq: t.seq, timestampMs: now, widgets: widgets, alerts: alerts)
                t.snapshotEvent = nil
                var members: [(String, JSONValue)] = [("seq", .number(Double(t.seq))), ("ts", .string(ts)), ("widgets", patch ?? .object([]))]
                if let alertsPatch { members.append(("alerts", alertsPatch)) }
                let delta = JSONValue.object(members)
                let wsDelta = JSONValue.object([("type", .string("delta")), ("dashboard", .string(spec.id))] + members)
                let ws = PushWire.webSocketFrame(.text, payload: wsDelta.jsonBytes)
                let event = EncodedFrame(
                    sse: PushWire.sseEvent(id: t.seq, event: "delta", json: delta.jsonBytes), ws: ws,
                    wsDeflate: t.deflateCount > 0 ? Hub.deflate(ws, s.deflater) : nil)
                t.recent.append((t.seq, now, event))
                while let first = t.recent.first, now - first.timeMs > retention { t.recent.removeFirst() }
                return (event, t.seq, Array(t.loops.values))
            }
            guard let (event, seq, loops) = publish else { continue }
            var delivered = 0
            for group in loops {
                let list = group.list
                delivered += list.count
                group.loop.execute {
                    // Each delta starts at another place in the loop's subscribers, so none is
                    // always written last (at 5,000 a loop, the last waits ~50 ms for the rest).
                    let start = Hub.startOffset(seq: seq, count: list.count)
                    for i in start..<list.count { list[i].deliver(event, seq: seq) }
                    for i in 0..<start { list[i].deliver(event, seq: seq) }
                }
            }
            telemetry.framesPublished.add(1)
            telemetry.framesDelivered.add(UInt64(delivered))
        }
        sweepIfDue(nowMs: now)
    }

    /// Where delivery of delta `seq` starts among `count` subscribers: golden-ratio steps, so
    /// consecutive deltas start far apart and every place comes first as often as any other.
    static func startOffset(seq: UInt64, count: Int) -> Int {
        guard count > 1 else { return 0 }
        return Int(((seq &* 0x9E37_79B9_7F4A_7C15) >> 32) % UInt64(count))
    }

    /// Once a second: each loop's connections get their upkeep (heartbeats, pings, evictions).
    func sweepIfDue(nowMs now: Int64) {
        let groups: [LoopConnections] = state.withLockedValue { s in
            guard now - s.lastSweepMs >= 1000 else { return [] }
            s.lastSweepMs = now
            return Array(s.connections.values)
        }
        for group in groups {
            let members = group.members
            group.loop.execute {
                for c in members.values { c.sweep(nowMs: now) }
            }
        }
    }

    /// Pushes an alert that fired, escalated or resolved as an `alert` message on every open
    /// stream (encoded once per transport). Frames list firing alerts too, so a stream that
    /// cannot take it now still sees the alert in its next delta.
    public func publish(_ transition: AlertTracker.Transition) {
        let event = Hub.alertEvent(transition)
        let groups = state.withLockedValue { Array($0.connections.values) }
        for group in groups {
            let members = group.members
            group.loop.execute {
                for c in members.values { c.deliverAlert(event) }
            }
        }
        telemetry.alertsPublished.add(1)
    }

    /// `{"type":"alert","transition":"fired",…alert}` for WebSocket; the same without `type` as
    /// SSE `event: alert` (no `id:`, so it never moves a client's resume point).
    static func alertEvent(_ transition: AlertTracker.Transition) -> EncodedFrame {
        let name = switch transition {
        case .fired: "fired"
        case .escalated: "escalated"
        case .resolved: "resolved"
        }
        guard case .object(let fields) = transition.alert.json else { preconditionFailure("an alert is a JSON object") }
        let body = [("transition", JSONValue.string(name))] + fields
        let ws = PushWire.webSocketFrame(.text, payload: JSONValue.object([("type", .string("alert"))] + body).jsonBytes)
        return EncodedFrame(sse: PushWire.sseEvent(event: "alert", json: JSONValue.object(body).jsonBytes), ws: ws, wsDeflate: deflate(ws, Deflater()))
    }

    /// Registers a connection for the once-a-second sweep.
    public func register(_ connection: any PushConnection) {
        state.withLockedValue { s in
            s.connections[ObjectIdentifier(connection.eventLoop), default: LoopConnections(loop: connection.eventLoop)]
                .members[ObjectIdentifier(connection)] = connection
        }
    }

    /// Forgets a connection.
    public func deregister(_ connection: any PushConnection) {
        state.withLockedValue { s in
            let id = ObjectIdentifier(connection.eventLoop)
            s.connections[id]?.members[ObjectIdentifier(connection)] = nil
            if s.connections[id]?.members.isEmpty == true { s.connections[id] = nil }
        }
    }

    /// Takes a stream slot; false when `push.max_streams` are open.
    public func openStream() -> Bool {
        let n = streams.wrappingAdd(1, ordering: .relaxed).newValue
        if n > configuration.maxStreams {
            streams.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Returns a stream slot.
    public func closeStream() { streams.wrappingSubtract(1, ordering: .relaxed) }

    /// Open streams.
    public var openStreams: Int { streams.load(ordering: .relaxed) }

    /// Switches the live topics of `id` to a new spec (their next frame diffs against the old
    /// one, so removed widgets become `null` in the delta), or ends them when it is gone.
    public func update(dashboard id: String, spec: DashboardSpec?) {
        let now = ingestor.nowMillis()
        let ended: [LoopMembers] = state.withLockedValue { s in
            var ended: [LoopMembers] = []
            for (key, t) in s.topics where t.spec.id == id {
                if let spec {
                    // Due at once (phases keep their offsets), so the new widgets reach
                    // subscribers on the next tick.
                    let due = now + Int64(t.phase) * phaseStepMs(refreshMs: spec.refreshMs)
                    s.topics[key] = Topic(
                        key: key, base: t.base, phase: t.phase, spec: spec, variables: t.variables, seq: t.seq, frame: t.frame,
                        widgets: t.widgets, alerts: t.alerts, snapshotEvent: t.snapshotEvent, recent: t.recent, loops: t.loops,
                        subscriberCount: t.subscriberCount, deflateCount: t.deflateCount, nextTickMs: t.phase == 0 ? 0 : due,
                        idleSinceMs: t.idleSinceMs)
                } else {
                    ended += t.loops.values
                    s.topics[key] = nil
                }
            }
            return ended
        }
        for group in ended {
            let list = group.list
            group.loop.execute { for m in list { m.topicEnded() } }
        }
    }

    /// Ends every connection on its loop (graceful shutdown).
    public func closeAll() {
        let groups = state.withLockedValue { Array($0.connections.values) }
        for group in groups {
            let members = group.members
            group.loop.execute { for c in members.values { c.shutdown() } }
        }
    }

    /// Live topics (a topic's phases count once) and subscribers, for `/metrics`.
    public func counts() -> (topics: Int, subscribers: Int) {
        state.withLockedValue { s in (Hub.liveTopics(s), s.topics.values.reduce(0) { $0 + $1.subscriberCount }) }
    }

    /// Live topics, a topic's phases counted once.
    static func liveTopics(_ s: State) -> Int {
        Set(s.topics.values.lazy.map(\.base)).count
    }

    /// Stream subscribers per dashboard id (every variable combination), for the dashboard list.
    public func subscribersByDashboard() -> [String: Int] {
        state.withLockedValue { s in
            var out: [String: Int] = [:]
            for t in s.topics.values where t.subscriberCount > 0 { out[t.spec.id, default: 0] += t.subscriberCount }
            return out
        }
    }
}
