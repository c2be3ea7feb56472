import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import PulseboardCore
import Synchronization

/// The fan-out hub. One topic per (dashboard, variable values): every `refresh_ms` it computes
/// the frame, diffs it against the last one (RFC 7386 merge patch), encodes the delta **once**
/// and hands the same bytes to every subscriber's bounded queue. It never waits on a subscriber.
/// Topics without subscribers stop ticking and are forgotten after the delta retention.
public final class Hub: Sendable {
    struct Topic {
        let key: String
        let spec: DashboardSpec
        let variables: [String: String]
        var seq: UInt64
        var frame: JSONValue
        var widgets: JSONValue
        /// The snapshot of `frame`, encoded on first request.
        var snapshotEvent: EncodedFrame?
        var recent: Deque<(seq: UInt64, timeMs: Int64, event: EncodedFrame)> = []
        var subscribers: [ObjectIdentifier: SubscriberQueue] = [:]
        var nextTickMs: Int64
        var idleSinceMs: Int64?
    }

    public let configuration: PushConfiguration
    let ingestor: Ingestor
    let frames = FrameBuilder()
    let topics: NIOLockedValueBox<[String: Topic]>
    let telemetry: Telemetry
    let streams = Atomic<Int>(0)
    static let heartbeatEvent = ByteBuffer(string: ": heartbeat\n\n")

    public init(configuration: PushConfiguration, ingestor: Ingestor, telemetry: Telemetry) {
        self.configuration = configuration
        self.ingestor = ingestor
        self.telemetry = telemetry
        self.topics = NIOLockedValueBox([:])
    }

    /// The topic key: dashboard id plus variable values in name order.
    public static func topicKey(dashboard: String, variables: [String: String]) -> String {
        dashboard + "?" + variables.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value }.joined(separator: "&")
    }

    func computeWidgets(_ spec: DashboardSpec, _ variables: [String: String]) -> JSONValue {
        frames.widgets(spec, variables: variables) { q in
            Result { () throws(QueryError) in try ingestor.query(q) }
        }
    }

    /// Subscribes `queue` to the topic of `spec` × `variables` (resolved). Returns the frames to
    /// write first: the deltas after `since` when still held, otherwise a snapshot. With
    /// `enqueueInitial` they are queued instead, ahead of any delta (for writers that only drain
    /// queues).
    public func subscribe(
        spec: DashboardSpec, variables: [String: String], since: UInt64?, queue: SubscriberQueue, enqueueInitial: Bool = false
    ) throws(SubscribeError) -> (key: String, initial: [ByteBuffer]) {
        let key = Hub.topicKey(dashboard: spec.id, variables: variables)
        let now = ingestor.nowMillis()
        let exists = topics.withLockedValue { $0[key] != nil }
        let fresh: JSONValue? = exists ? nil : computeWidgets(spec, variables)
        let result: Result<[ByteBuffer], SubscribeError> = topics.withLockedValue { all in
            if all[key] == nil {
                guard all.count < configuration.maxTopics else {
                    return .failure(SubscribeError("too_many_topics", "the server already serves \(configuration.maxTopics) live topics (push.max_topics)"))
                }
                let widgets = fresh ?? computeWidgets(spec, variables)
                // A topic's first seq is its creation time in epoch ms, and it grows by one per
                // delta (at most 10/s): a seq from an earlier topic, or another server run, is
                // always below it, so a stale resume point gets a fresh snapshot.
                let first = UInt64(max(1, now))
                all[key] = Topic(
                    key: key, spec: spec, variables: variables, seq: first,
                    frame: frames.frame(dashboard: spec.id, seq: first, timestampMs: now, widgets: widgets),
                    widgets: widgets, nextTickMs: now + Int64(spec.refreshMs))
            }
            var topic = all[key]!
            topic.subscribers[ObjectIdentifier(queue)] = queue
            topic.idleSinceMs = nil
            var initial: [ByteBuffer] = []
            let held = since.map { s in
                s <= topic.seq && (s == topic.seq || (topic.recent.first.map { $0.seq <= s + 1 } ?? false))
            } ?? false
            let pick: (EncodedFrame) -> ByteBuffer = { queue.transport == .sse ? $0.sse : $0.ws }
            if held, let since {
                initial = topic.recent.filter { $0.seq > since }.map { pick($0.event) }
            } else {
                initial = [pick(Hub.snapshotEvent(&topic))]
            }
            queue.delivered(upTo: topic.seq)
            if enqueueInitial {
                for frame in initial { queue.push(frame, seq: 0, nowMs: now) }
                initial = []
            }
            all[key] = topic
            return .success(initial)
        }
        return (key, try result.get())
    }

    static func snapshotEvent(_ topic: inout Topic) -> EncodedFrame {
        if let cached = topic.snapshotEvent { return cached }
        var ws: [(String, JSONValue)] = [("type", .string("snapshot"))]
        if case .object(let members) = topic.frame { ws += members }
        let event = EncodedFrame(
            sse: Hub.sseEvent(id: topic.seq, event: "snapshot", json: topic.frame.jsonBytes),
            ws: ByteBuffer(bytes: JSONValue.object(ws).jsonBytes))
        topic.snapshotEvent = event
        return event
    }

    static func sseEvent(id: UInt64, event: String, json: [UInt8]) -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(json.count + 48)
        b.writeString("id: \(id)\nevent: \(event)\ndata: ")
        b.writeBytes(json)
        b.writeString("\n\n")
        return b
    }

    /// Removes `queue` from topic `key`.
    public func unsubscribe(key: String, queue: SubscriberQueue) {
        let now = ingestor.nowMillis()
        topics.withLockedValue { all in
            guard var t = all[key] else { return }
            t.subscribers[ObjectIdentifier(queue)] = nil
            if t.subscribers.isEmpty { t.idleSinceMs = now }
            all[key] = t
        }
        queue.close()
    }

    /// The current snapshot and its seq (for a subscriber that must resynchronise).
    public func snapshot(key: String) -> (event: EncodedFrame, seq: UInt64)? {
        topics.withLockedValue { all in
            guard var t = all[key] else { return nil }
            let e = Hub.snapshotEvent(&t)
            all[key] = t
            return (e, t.seq)
        }
    }

    /// The current frame of a live topic, if any.
    public func frame(key: String) -> JSONValue? {
        topics.withLockedValue { $0[key]?.frame }
    }

    /// Computes the frames of the topics that are due; publishes a delta where anything changed.
    public func tick() {
        let now = ingestor.nowMillis()
        let retention = Int64(configuration.deltaRetentionSeconds) * 1000
        let due: [(String, DashboardSpec, [String: String])] = topics.withLockedValue { all in
            for (key, t) in all where t.idleSinceMs.map({ now - $0 >= retention }) ?? false { all[key] = nil }
            return all.values.filter { !$0.subscribers.isEmpty && $0.nextTickMs <= now }.map { ($0.key, $0.spec, $0.variables) }
        }
        for (key, spec, variables) in due {
            let widgets = computeWidgets(spec, variables)
            let delivered: Int = topics.withLockedValue { all in
                guard var t = all[key] else { return 0 }
                t.nextTickMs = max(t.nextTickMs + Int64(spec.refreshMs), now)
                defer { all[key] = t }
                guard let patch = JSONMergePatch.diff(t.widgets, widgets) else { return 0 }
                t.seq += 1
                let ts = Timestamp.format(millis: now)
                t.widgets = widgets
                t.frame = frames.frame(dashboard: spec.id, seq: t.seq, timestampMs: now, widgets: widgets)
                t.snapshotEvent = nil
                let delta = JSONValue.object([("seq", .number(Double(t.seq))), ("ts", .string(ts)), ("widgets", patch)])
                let wsDelta = JSONValue.object([
                    ("type", .string("delta")), ("dashboard", .string(spec.id)), ("seq", .number(Double(t.seq))),
                    ("ts", .string(ts)), ("widgets", patch),
                ])
                let event = EncodedFrame(
                    sse: Hub.sseEvent(id: t.seq, event: "delta", json: delta.jsonBytes), ws: ByteBuffer(bytes: wsDelta.jsonBytes))
                t.recent.append((t.seq, now, event))
                while let first = t.recent.first, now - first.timeMs > retention { t.recent.removeFirst() }
                for q in t.subscribers.values { q.push(event, seq: t.seq, nowMs: now) }
                return t.subscribers.count
            }
            if delivered > 0 {
                telemetry.framesPublished.add(1)
                telemetry.framesDelivered.add(UInt64(delivered))
            }
        }
        evictStalled(nowMs: now)
    }

    /// Disconnects subscribers whose frames have waited longer than the unwritable timeout.
    func evictStalled(nowMs now: Int64) {
        let timeout = Int64(configuration.unwritableTimeoutSeconds) * 1000
        let stalled: [(String, SubscriberQueue)] = topics.withLockedValue { all in
            var out: [(String, SubscriberQueue)] = []
            for (key, t) in all {
                for q in t.subscribers.values where q.isStalled(nowMs: now, timeoutMs: timeout) { out.append((key, q)) }
            }
            for (key, q) in out { all[key]?.subscribers[ObjectIdentifier(q)] = nil }
            return out
        }
        for (_, q) in stalled { q.evict() }
        if !stalled.isEmpty { telemetry.subscribersEvicted.add(UInt64(stalled.count)) }
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

    /// Queues an SSE heartbeat comment for every subscriber.
    public func heartbeat() {
        topics.withLockedValue { all in
            for t in all.values { for q in t.subscribers.values where q.transport == .sse { q.push(Hub.heartbeatEvent, seq: 0, nowMs: ingestor.nowMillis()) } }
        }
    }

    /// Switches the live topics of `id` to a new spec (their next frame diffs against the old
    /// one, so removed widgets become `null` in the delta), or ends them when it is gone.
    public func update(dashboard id: String, spec: DashboardSpec?) {
        let closing: [SubscriberQueue] = topics.withLockedValue { all in
            var closing: [SubscriberQueue] = []
            for (key, t) in all where t.spec.id == id {
                if let spec {
                    all[key] = Topic(
                        key: key, spec: spec, variables: t.variables, seq: t.seq, frame: t.frame, widgets: t.widgets,
                        snapshotEvent: t.snapshotEvent, recent: t.recent, subscribers: t.subscribers, nextTickMs: 0, idleSinceMs: t.idleSinceMs)
                } else {
                    closing += t.subscribers.values
                    all[key] = nil
                }
            }
            return closing
        }
        for q in closing { q.close() }
    }

    /// Closes every subscription (graceful shutdown).
    public func closeAll() {
        let queues = topics.withLockedValue { all in all.values.flatMap { $0.subscribers.values } }
        for q in queues { q.close() }
    }

    /// Live topics and subscribers, for `/metrics`.
    public func counts() -> (topics: Int, subscribers: Int, dropped: UInt64) {
        topics.withLockedValue { all in
            (all.count, all.values.reduce(0) { $0 + $1.subscribers.count },
             all.values.reduce(0) { acc, t in t.subscribers.values.reduce(acc) { $0 + $1.droppedFrames } })
        }
    }
}
