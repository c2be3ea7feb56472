import PulseboardCore
import PulseboardEngine

/// **Frame + merge-patch encode**: what the hub does for a topic once its widgets are
/// computed. Diffs the engagement dashboard's previous and current `widgets` (RFC 7386 merge
/// patch), builds the new frame, and encodes the delta once per transport: an SSE
/// `event: delta` chunk and a WebSocket text frame (`EncodedFrame`).
///
/// The frames are real: the engagement dashboard over five minutes of synthetic traffic
/// (100 events a second), taken one second apart. The workload cycles through 16 such
/// consecutive pairs. It mirrors the encode steps of `Hub.tick` (which keeps them inline, not
/// as a callable function); keep the two in step.
public final class FrameDeltaWorkload: MicroWorkload {
    let dashboard: String
    /// 17 consecutive `widgets` values, one second apart.
    let widgets: [JSONValue]
    let times: [Int64]
    let frames = FrameBuilder()
    let alerts = JSONValue.object([])
    var next = 0
    var seq: UInt64 = 1
    /// The last frame and encoded delta (keeps the results observable).
    public private(set) var frame: JSONValue = .null
    public private(set) var event: EncodedFrame?

    public init() {
        let spec = Fixtures.engagementSpec()
        let variables = Fixtures.engagementVariables(spec)
        dashboard = spec.id
        let configuration = Fixtures.aggregation()
        let decoder = EventDecoder(dimensions: configuration.dimensions)
        var traffic = Fixtures.traffic(seed: 11)
        let start = Fixtures.nowMs - 300_000
        var aggregator = Aggregator(configuration: configuration, nowMs: start)
        var widgets: [JSONValue] = []
        var times: [Int64] = []
        var batch = DecodedBatch()
        for second in 0..<(300 + 17) {
            let now = start + Int64(second) * 1000
            aggregator.advance(toMillis: now)
            var body: [UInt8] = []
            traffic.appendMixedBatch(into: &body, count: Fixtures.batchSize, atMillis: now)
            Fixtures.decode(body, with: decoder, into: &batch, nowMs: now)
            body.withUnsafeBytes { bytes in
                for e in batch.events { aggregator.record(e, batch: batch, bytes: bytes, arrivalMs: now) }
            }
            if second >= 300 {
                widgets.append(frames.widgets(spec, variables: variables, source: AggregatorFrameSource(aggregator: aggregator)))
                times.append(now)
            }
        }
        self.widgets = widgets
        self.times = times
        for i in 0..<(widgets.count - 1) {
            precondition(JSONMergePatch.diff(widgets[i], widgets[i + 1]) != nil, "frames \(i) and \(i + 1) do not differ")
        }
        for _ in 0..<(widgets.count - 1) { run() }
    }

    public func run() {
        let old = widgets[next]
        let new = widgets[next + 1]
        let now = times[next + 1]
        next = (next + 1) % (widgets.count - 1)

        // As in Hub.tick, for a topic with no permessage-deflate subscribers.
        let patch = JSONMergePatch.diff(old, new)
        let alertsPatch = JSONMergePatch.diff(alerts, alerts)
        seq += 1
        let ts = Timestamp.format(millis: now)
        frame = frames.frame(dashboard: dashboard, seq: seq, timestampMs: now, widgets: new, alerts: alerts)
        var members: [(String, JSONValue)] = [("seq", .number(Double(seq))), ("ts", .string(ts)), ("widgets", patch ?? .object([]))]
        if let alertsPatch { members.append(("alerts", alertsPatch)) }
        let delta = JSONValue.object(members)
        let wsDelta = JSONValue.object([("type", .string("delta")), ("dashboard", .string(dashboard))] + members)
        let ws = PushWire.webSocketFrame(.text, payload: wsDelta.jsonBytes)
        event = EncodedFrame(sse: PushWire.sseEvent(id: seq, event: "delta", json: delta.jsonBytes), ws: ws)
    }
}
