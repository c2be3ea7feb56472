import Foundation
import NIOCore
import PulseboardCore
import Testing
@testable import PulseboardEngine

/// One SSE event as a client parses it.
struct SSEEvent {
    var id: UInt64?
    var event: String
    var data: JSONValue?

    static func parse(_ buffers: [ByteBuffer]) -> [SSEEvent] {
        var text = ""
        for b in buffers { text += String(buffer: b) }
        return text.components(separatedBy: "\n\n").compactMap { block in
            var e = SSEEvent(id: nil, event: "message", data: nil)
            var any = false
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { e.id = UInt64(line.dropFirst(4)); any = true }
                if line.hasPrefix("event: ") { e.event = String(line.dropFirst(7)); any = true }
                if line.hasPrefix("data: ") { e.data = try? JSONValue.parse(String(line.dropFirst(6))); any = true }
            }
            return any ? e : nil
        }
    }
}

/// A client's view of a stream: the frame it rebuilt and the last seq it saw.
struct StreamClient {
    var frame: JSONValue = .null
    var lastSeq: UInt64 = 0

    mutating func receive(_ buffers: [ByteBuffer]) {
        for e in SSEEvent.parse(buffers) {
            guard let data = e.data else { continue }
            switch e.event {
            case "snapshot": frame = data
            case "delta": frame = JSONMergePatch.apply(data, to: frame)
            default: continue
            }
            if let id = e.id {
                #expect(id > lastSeq || e.event == "snapshot", "seq must increase")
                lastSeq = id
            }
        }
    }
}

/// A hub over a fresh journal and a manual clock.
struct HubFixture {
    let dir = temporaryDirectory()
    let clock = ManualClock(millis: 1_790_000_000_000)
    let telemetry = Telemetry()
    let ingestor: Ingestor
    let hub: Hub

    init(_ configuration: PushConfiguration = PushConfiguration()) throws {
        ingestor = try makeIngestor(directory: dir, clock: clock)
        hub = Hub(configuration: configuration, ingestor: ingestor, telemetry: telemetry)
    }

    /// Moves time by `ms`, sends one event from `user`, and ticks the hub.
    func step(_ ms: Int64, user: String) throws {
        clock.advance(byMillis: ms)
        _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: user)]), format: .json)
        hub.tick()
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }
}

@Suite struct HubTests {
    static let spec: DashboardSpec = {
        let text = """
            {"id": "live", "title": "Live", "refresh_ms": 500,
             "variables": {"org_id": {"default": "any", "values": "any"}},
             "widgets": [
               {"id": "users", "type": "stat", "query": {"metric": "active_users", "window": "1m", "filter": "org_id:$org_id"}},
               {"id": "rate", "type": "timeseries", "query": {"metric": "events_per_sec", "window": "30s", "filter": "org_id:$org_id"}},
               {"id": "p95", "type": "stat", "query": {"metric": "response_time_ms", "aggregation": "p95", "window": "5m"}},
               {"id": "types", "type": "bar", "query": {"metric": "events", "window": "5m", "group_by": "event_type"}}
             ]}
            """
        return try! DashboardSpecParser().parse(Array(text.utf8), fileId: "live").get()
    }()

    func drain(_ queue: SubscriberQueue, hub: Hub, key: String, into client: inout StreamClient) async {
        // Everything queued so far (the hub never blocks; next() returns at once when non-empty).
        while true {
            let pending = queue.pendingCount > 0
            guard pending else { return }
            switch await queue.next() {
            case .frames(let frames): client.receive(frames)
            case .resync:
                let (event, seq) = hub.snapshot(key: key)!
                queue.delivered(upTo: seq)
                client.receive([event.sse])
            case .closed: return
            }
        }
    }

    @Test(arguments: [21, 22, 23] as [UInt64])
    func deltasAppliedToTheSnapshotReproduceTheFrame(seed: UInt64) async throws {
        var rng = SplitMix64(seed: seed)
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, ingestor, hub) = (f.clock, f.ingestor, f.hub)
        var ids: [String] = []
        var counter = 0
        var subscribers: [(queue: SubscriberQueue, key: String, client: StreamClient)] = []

        for step in 0..<300 {
            clock.advance(byMillis: Int64(50 + rng.next() % 400))
            let batch = (0..<Int(rng.next() % 6)).map { _ in
                AggregateBruteForceTests.randomEvent(&rng, now: clock.nowMillis(), ids: &ids, counter: &counter)
            }
            if !batch.isEmpty { _ = try ingestor.ingest(TestEvent.batch(batch), format: .json) }
            // Subscribers join at random times, some with an org variable.
            if rng.next() % 25 == 0 {
                let vars = try HubTests.spec.resolve(rng.next() % 2 == 0 ? [:] : ["org_id": "org\(rng.next() % 4)"])
                let queue = SubscriberQueue(capacity: 1000)
                let (key, initial) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: queue)
                var client = StreamClient()
                client.receive(initial)
                subscribers.append((queue, key, client))
            }
            hub.tick()
            for i in subscribers.indices {
                await drain(subscribers[i].queue, hub: hub, key: subscribers[i].key, into: &subscribers[i].client)
                let live = try #require(hub.frame(key: subscribers[i].key))
                #expect(subscribers[i].client.frame == live, "seed \(seed) step \(step) subscriber \(i)")
                #expect(subscribers[i].client.lastSeq == UInt64(live["seq"]?.numberValue ?? 0))
            }
        }
        #expect(subscribers.count >= 5)
    }

    @Test func resumeSendsMissedDeltasWhileHeldElseASnapshot() async throws {
        var config = PushConfiguration()
        config.deltaRetentionSeconds = 10
        let f = try HubFixture(config)
        defer { f.remove() }
        let (clock, ingestor, hub) = (f.clock, f.ingestor, f.hub)
        let vars = try HubTests.spec.resolve([:])
        let first = SubscriberQueue(capacity: 100)
        let (key, initial) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: first)
        var client = StreamClient()
        client.receive(initial)
        let seenSeq = client.lastSeq
        hub.unsubscribe(key: key, queue: first)
        // Traffic while the client is away; another subscriber keeps the topic ticking.
        let keeper = SubscriberQueue(capacity: 1000)
        _ = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: keeper)
        for i in 0..<5 {
            clock.advance(byMillis: 600)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u\(i)")]), format: .json)
            hub.tick()
        }
        let back = SubscriberQueue(capacity: 100)
        let (_, resumed) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: seenSeq, queue: back)
        let events = SSEEvent.parse(resumed)
        #expect(events.count == 5)
        #expect(events.allSatisfy { $0.event == "delta" })
        client.receive(resumed)
        #expect(client.frame == hub.frame(key: key))
        // Outside the retention window the deltas are gone: a fresh snapshot instead.
        for _ in 0..<30 {
            clock.advance(byMillis: 600)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "late")]), format: .json)
            hub.tick()
        }
        let late = SubscriberQueue(capacity: 100)
        let (_, again) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: seenSeq, queue: late)
        #expect(SSEEvent.parse(again).map(\.event) == ["snapshot"])
        // A stale id from another server run is older than any held delta: snapshot too.
        let stale = SubscriberQueue(capacity: 100)
        let (_, fromOldRun) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: 42, queue: stale)
        #expect(SSEEvent.parse(fromOldRun).map(\.event) == ["snapshot"])
    }

    @Test func aSubscriberThatStaysUnwritableIsDisconnected() async throws {
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, ingestor, hub, telemetry) = (f.clock, f.ingestor, f.hub, f.telemetry)
        let vars = try HubTests.spec.resolve([:])
        let stuck = SubscriberQueue(capacity: 8)
        let evicted = ManualClock(millis: 0)  // used as a thread-safe flag
        stuck.onEvict { evicted.set(millis: 1) }
        let (key, _) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: stuck)
        let reader = SubscriberQueue(capacity: 8)
        var client = StreamClient()
        client.receive(try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: reader).initial)
        for i in 0..<70 {
            clock.advance(byMillis: 500)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u\(i)")]), format: .json)
            hub.tick()
            await drain(reader, hub: hub, key: key, into: &client)
            // 30 s after its frames started waiting, and not before, the stuck one is cut off.
            #expect(stuck.isClosed == (i >= 61), "tick \(i)")
        }
        #expect(evicted.nowMillis() == 1)
        #expect(telemetry.subscribersEvicted.value == 1)
        #expect(!reader.isClosed)
        #expect(client.frame == hub.frame(key: key))
    }

    @Test func onlyFramesThatWaitStartTheUnwritableClock() {
        let queue = SubscriberQueue(capacity: 4)
        queue.delivered(upTo: 10)
        queue.push(ByteBuffer(string: "old"), seq: 9, nowMs: 1_000)  // already covered: dropped
        #expect(!queue.isStalled(nowMs: 100_000, timeoutMs: 30_000))
        queue.push(ByteBuffer(string: "new"), seq: 11, nowMs: 90_000)
        #expect(!queue.isStalled(nowMs: 100_000, timeoutMs: 30_000))
        #expect(queue.isStalled(nowMs: 121_000, timeoutMs: 30_000))
        _ = queue.tryTake()
        #expect(!queue.isStalled(nowMs: 200_000, timeoutMs: 30_000))
    }

    @Test func aReloadedSpecReachesLiveSubscribersAsADelta() async throws {
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, hub) = (f.clock, f.hub)
        let vars = try HubTests.spec.resolve([:])
        let queue = SubscriberQueue(capacity: 100)
        let (key, initial) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: queue)
        var client = StreamClient()
        client.receive(initial)
        var edited = HubTests.spec
        edited.widgets.removeFirst()
        hub.update(dashboard: "live", spec: edited)
        clock.advance(byMillis: 600)
        hub.tick()
        await drain(queue, hub: hub, key: key, into: &client)
        #expect(client.frame["widgets"]?["users"] == nil)
        #expect(client.frame == hub.frame(key: key))
        // A deleted dashboard ends its streams.
        hub.update(dashboard: "live", spec: nil)
        #expect(queue.isClosed)
        #expect(hub.frame(key: key) == nil)
    }

    @Test func aStalledSubscriberNeverDelaysOthersAndIsCoalesced() async throws {
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, ingestor, hub) = (f.clock, f.ingestor, f.hub)
        let vars = try HubTests.spec.resolve([:])
        let stalled = SubscriberQueue(capacity: 4)
        let (key, _) = try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: stalled)
        let healthy = SubscriberQueue(capacity: 4)
        var client = StreamClient()
        client.receive(try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: healthy).initial)
        for i in 0..<40 {
            clock.advance(byMillis: 600)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u\(i)")]), format: .json)
            hub.tick()
            await drain(healthy, hub: hub, key: key, into: &client)
            #expect(client.frame == hub.frame(key: key))
        }
        // The stalled queue holds at most its capacity, and resynchronises with one snapshot.
        #expect(stalled.pendingCount <= 4)
        #expect(stalled.droppedFrames > 0)
        var slow = StreamClient()
        slow.receive(try hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, queue: SubscriberQueue(capacity: 4)).initial)
        var resynced = StreamClient(frame: .null, lastSeq: 0)
        await drain(stalled, hub: hub, key: key, into: &resynced)
        #expect(resynced.frame == hub.frame(key: key))
    }
}

extension JSONValue {
    var numberValue: Double? { if case .number(let d) = self { d } else { nil } }
}
