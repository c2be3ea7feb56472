import Foundation
import NIOCore
import NIOEmbedded
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
        for b in buffers { text += String(buffer: PushWire.unchunk(b)) }
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
    /// Where the hub's deliveries run: `drain` runs them, so tests stay single-threaded.
    let loop = EmbeddedEventLoop()

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

    /// A subscriber queue on the fixture's loop, on the hub's clock.
    func queue(capacity: Int) -> SubscriberQueue {
        let clock = self.clock
        return SubscriberQueue(capacity: capacity, eventLoop: loop, clock: { clock.nowMillis() })
    }

    /// Subscribes `queue` and returns the frames it must write first.
    func subscribe(_ queue: SubscriberQueue, _ variables: [String: String], since: UInt64? = nil) throws -> (key: String, initial: [ByteBuffer]) {
        let s = try hub.subscribe(spec: HubTests.spec, variables: variables, since: since, subscriber: queue)
        queue.delivered(upTo: s.seq)
        return (s.key, s.initial)
    }
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
        (queue.eventLoop as? EmbeddedEventLoop)?.run()  // the hub's deliveries
        // Everything queued so far (the hub never blocks; next() returns at once when non-empty).
        while true {
            let pending = queue.pendingCount > 0
            guard pending else { return }
            switch await queue.next() {
            case .frames(let frames): client.receive(frames)
            case .resync:
                let (bytes, seq) = hub.snapshot(key: key, encoding: .sse)!
                queue.delivered(upTo: seq)
                client.receive([bytes])
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
                let queue = f.queue(capacity: 1000)
                let (key, initial) = try f.subscribe(queue, vars)
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
        let first = f.queue(capacity: 100)
        let (key, initial) = try f.subscribe(first, vars)
        var client = StreamClient()
        client.receive(initial)
        let seenSeq = client.lastSeq
        hub.unsubscribe(key: key, subscriber: first)
        // Traffic while the client is away; another subscriber keeps the topic ticking.
        let keeper = f.queue(capacity: 1000)
        _ = try f.subscribe(keeper, vars)
        for i in 0..<5 {
            clock.advance(byMillis: 600)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u\(i)")]), format: .json)
            hub.tick()
        }
        let back = f.queue(capacity: 100)
        let (_, resumed) = try f.subscribe(back, vars, since: seenSeq)
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
        let late = f.queue(capacity: 100)
        let (_, again) = try f.subscribe(late, vars, since: seenSeq)
        #expect(SSEEvent.parse(again).map(\.event) == ["snapshot"])
        // A stale id from another server run is older than any held delta: snapshot too.
        let stale = f.queue(capacity: 100)
        let (_, fromOldRun) = try f.subscribe(stale, vars, since: 42)
        #expect(SSEEvent.parse(fromOldRun).map(\.event) == ["snapshot"])
    }

    @Test func aSubscriberThatStaysUnwritableIsDisconnected() async throws {
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, ingestor, hub) = (f.clock, f.ingestor, f.hub)
        let vars = try HubTests.spec.resolve([:])
        let stuck = f.queue(capacity: 8)
        let evicted = ManualClock(millis: 0)  // used as a thread-safe flag
        stuck.onEvict { evicted.set(millis: 1) }
        let (key, _) = try f.subscribe(stuck, vars)
        hub.register(stuck)
        let reader = f.queue(capacity: 8)
        var client = StreamClient()
        client.receive(try f.subscribe(reader, vars).initial)
        for i in 0..<70 {
            clock.advance(byMillis: 500)
            _ = try ingestor.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u\(i)")]), format: .json)
            hub.tick()
            await drain(reader, hub: hub, key: key, into: &client)
            // 30 s after its frames started waiting, and not before, the stuck one is cut off
            // (by the sweep, which runs once a second).
            #expect(stuck.isClosed == (i >= 62), "tick \(i)")
        }
        #expect(evicted.nowMillis() == 1)
        #expect(!reader.isClosed)
        #expect(client.frame == hub.frame(key: key))
    }

    @Test func onlyFramesThatWaitStartTheUnwritableClock() {
        let queue = SubscriberQueue(capacity: 4, eventLoop: EmbeddedEventLoop())
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
        let queue = f.queue(capacity: 100)
        let (key, initial) = try f.subscribe(queue, vars)
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
        f.loop.run()
        #expect(queue.isClosed)
        #expect(hub.frame(key: key) == nil)
    }

    @Test func aStalledSubscriberNeverDelaysOthersAndIsCoalesced() async throws {
        let f = try HubFixture()
        defer { f.remove() }
        let (clock, ingestor, hub) = (f.clock, f.ingestor, f.hub)
        let vars = try HubTests.spec.resolve([:])
        let stalled = f.queue(capacity: 4)
        let (key, _) = try f.subscribe(stalled, vars)
        let healthy = f.queue(capacity: 4)
        var client = StreamClient()
        client.receive(try f.subscribe(healthy, vars).initial)
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
        slow.receive(try f.subscribe(f.queue(capacity: 4), vars).initial)
        var resynced = StreamClient(frame: .null, lastSeq: 0)
        await drain(stalled, hub: hub, key: key, into: &resynced)
        #expect(resynced.frame == hub.frame(key: key))
    }
}

/// Deliveries in the order the hub made them, across subscribers (one embedded loop).
final class DeliveryLog: @unchecked Sendable {
    // @unchecked: written only from the test's EmbeddedEventLoop, on the test's thread.
    var entries: [(subscriber: Int, seq: UInt64)] = []
}

/// A subscriber that writes what it is handed to a shared log.
final class RecordingSubscriber: PushSubscriber, @unchecked Sendable {
    let eventLoop: any EventLoop
    let encoding = PushEncoding.sse
    let number: Int
    let log: DeliveryLog

    init(_ number: Int, loop: any EventLoop, log: DeliveryLog) {
        (self.number, self.eventLoop, self.log) = (number, loop, log)
    }

    func deliver(_ frame: EncodedFrame, seq: UInt64) { log.entries.append((number, seq)) }
    func topicEnded() {}
}

@Suite struct HubDeliveryOrderTests {
    /// A wallboard that connected last must not always be written last: each delta starts at
    /// another subscriber, and every subscriber still gets every delta once, in seq order.
    @Test func everyDeltaReachesEverySubscriberStartingAtAnotherEachTime() throws {
        let f = try HubFixture()
        defer { f.remove() }
        let log = DeliveryLog()
        let vars = try HubTests.spec.resolve([:])
        let subscribers = (0..<8).map { RecordingSubscriber($0, loop: f.loop, log: log) }
        for s in subscribers { _ = try f.hub.subscribe(spec: HubTests.spec, variables: vars, since: nil, subscriber: s) }
        for i in 0..<24 {
            try f.step(600, user: "u\(i)")
            f.loop.run()
        }
        let bySeq = Dictionary(grouping: log.entries, by: \.seq)
        #expect(bySeq.count >= 20, "a delta per tick with a new user: \(bySeq.count)")
        for (seq, entries) in bySeq {
            #expect(Set(entries.map(\.subscriber)) == Set(0..<8), "delta \(seq) reached \(entries.map(\.subscriber))")
            #expect(entries.count == 8)
        }
        for s in subscribers {
            let seqs = log.entries.filter { $0.subscriber == s.number }.map(\.seq)
            #expect(seqs == seqs.sorted(), "subscriber \(s.number) got \(seqs)")
        }
        let firsts = bySeq.keys.sorted().map { bySeq[$0]![0].subscriber }
        let lasts = bySeq.keys.sorted().map { bySeq[$0]!.last!.subscriber }
        #expect(Set(firsts).count == 8, "first written: \(firsts)")
        #expect(Set(lasts).count == 8, "last written: \(lasts)")
    }

    @Test func startOffsetsCoverEveryPlace() {
        for count in [1, 2, 3, 7, 5000] {
            let starts = (1...UInt64(count * 4)).map { Hub.startOffset(seq: $0, count: count) }
            #expect(starts.allSatisfy { (0..<count).contains($0) })
            #expect(Set(starts).count >= count * 9 / 10, "count \(count): \(Set(starts).count) places")
        }
    }
}

extension JSONValue {
    var numberValue: Double? { if case .number(let d) = self { d } else { nil } }
}
