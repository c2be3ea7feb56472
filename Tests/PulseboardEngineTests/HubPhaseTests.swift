import NIOCore
import NIOEmbedded
import PulseboardCore
import Testing
@testable import PulseboardEngine

/// A topic with more subscribers than `push.phase_size` runs in phases: each is a stream of its
/// own, and they tick apart, so a large audience is written in several small bursts.
@Suite struct HubPhaseTests {
    /// Eight subscribers, two per phase, four phases of a 500 ms refresh (125 ms apart).
    static func phased() -> PushConfiguration {
        var c = PushConfiguration()
        c.phaseSize = 2
        c.maxPhases = 4
        c.deltaRetentionSeconds = 1
        return c
    }

    @Test func aLargeAudienceIsWrittenInPhasesThatTickApartEachAConsistentStream() async throws {
        let f = try HubFixture(HubPhaseTests.phased())
        defer { f.remove() }
        let vars = try HubTests.spec.resolve([:])
        var subscribers: [(queue: SubscriberQueue, key: String, client: StreamClient)] = []
        for _ in 0..<8 {
            let q = f.queue(capacity: 64)
            let (key, initial) = try f.subscribe(q, vars)
            var client = StreamClient()
            client.receive(initial)
            #expect(client.frame != .null, "each subscriber starts with its phase's snapshot")
            subscribers.append((q, key, client))
        }
        let base = Hub.topicKey(dashboard: "live", variables: vars)
        let keys = subscribers.map(\.key)
        #expect(keys == [base, base, base + "#1", base + "#1", base + "#2", base + "#2", base + "#3", base + "#3"])
        #expect(f.hub.counts().topics == 1, "the phases of a topic count once")
        #expect(f.hub.counts().subscribers == 8)
        for (i, s) in subscribers.enumerated() {
            #expect(Int(s.client.lastSeq >> Hub.phaseSeqShift) == i / 2, "phase \(i / 2)'s seqs carry its number: \(s.client.lastSeq)")
        }

        // Two seconds in 25 ms steps, a new user each step: every phase has a delta each refresh.
        var deliveredAt: [Int: Set<Int64>] = [:]  // phase -> delivery times modulo the refresh
        var usersAtLastDelta: [Int: Int] = [:]  // phase -> users sent when it last delivered
        let start = f.clock.nowMillis()
        for n in 0..<80 {
            try f.step(25, user: "u\(n)")
            f.loop.run()
            for i in subscribers.indices where subscribers[i].queue.pendingCount > 0 {
                deliveredAt[i / 2, default: []].insert((f.clock.nowMillis() - start) % 500)
                usersAtLastDelta[i / 2] = n + 1
                await HubTests().drain(subscribers[i].queue, hub: f.hub, key: subscribers[i].key, into: &subscribers[i].client)
            }
        }
        #expect(deliveredAt.count == 4, "every phase delivered: \(deliveredAt)")
        let offsets = (0..<4).compactMap { deliveredAt[$0] }
        #expect(offsets.allSatisfy { $0.count == 1 }, "each phase ticks at one place in the refresh: \(offsets)")
        let places = offsets.compactMap(\.first)
        #expect(places.count == 4)
        #expect(zip(places, places.dropFirst()).allSatisfy { ($1 - $0 + 500) % 500 == 125 }, "125 ms apart: \(places)")

        for (i, s) in subscribers.enumerated() {
            #expect(s.client.frame == f.hub.frame(key: s.key), "deltas rebuild the frame of \(s.key)")
            let users = try #require(usersAtLastDelta[i / 2])
            #expect(s.client.frame["widgets"]?["users"]?["value"] == .number(Double(users)), "as many users as were sent by its phase's last tick")
        }
        #expect(Set(usersAtLastDelta.values).count == 4, "each phase last ticked at another time: \(usersAtLastDelta)")

        // A resume goes back to its own phase even when another has more room.
        let last = subscribers[4].client.lastSeq
        f.hub.unsubscribe(key: subscribers[0].key, subscriber: subscribers[0].queue)
        let resumed = f.queue(capacity: 64)
        let (key, initial) = try f.subscribe(resumed, vars, since: last)
        #expect(key == base + "#2")
        #expect(initial.isEmpty, "nothing after its last seq: no snapshot")
        let fresh = f.queue(capacity: 64)
        #expect(try f.subscribe(fresh, vars).key == base, "a new subscriber fills the phase with room")

        // Phase 0 empties and is dropped after the retention; when it comes back it takes its
        // old place in the schedule of the phases still live.
        f.hub.unsubscribe(key: base, subscriber: subscribers[1].queue)
        f.hub.unsubscribe(key: base, subscriber: fresh)
        for n in 0..<60 { try f.step(25, user: "v\(n)") }
        #expect(f.hub.frame(key: base) == nil, "an idle phase is forgotten")
        f.clock.advance(byMillis: 50)  // a refresh from now is not phase 0's old place
        let back = f.queue(capacity: 64)
        #expect(try f.subscribe(back, vars).key == base)
        f.loop.run()
        var backAt: Int64?
        for n in 0..<40 where backAt == nil {
            try f.step(25, user: "w\(n)")
            f.loop.run()
            if back.pendingCount > 0 { backAt = (f.clock.nowMillis() - start) % 500 }
        }
        #expect(backAt == places[0], "phase 0 back at \(backAt ?? -1) ms into the refresh, was \(places[0])")
    }

    @Test func phaseSizeZeroKeepsOneStream() throws {
        var c = PushConfiguration()
        c.phaseSize = 0
        let f = try HubFixture(c)
        defer { f.remove() }
        let vars = try HubTests.spec.resolve([:])
        let keys = try (0..<5).map { _ in try f.subscribe(f.queue(capacity: 8), vars).key }
        #expect(Set(keys) == [Hub.topicKey(dashboard: "live", variables: vars)])
    }

    @Test func aShortRefreshGetsFewerPhasesNeverCloserThan50ms() throws {
        let f = try HubFixture(HubPhaseTests.phased())
        defer { f.remove() }
        #expect(f.hub.phaseCount(refreshMs: 500) == 4)
        #expect(f.hub.phaseCount(refreshMs: 100) == 2)
        #expect(f.hub.phaseCount(refreshMs: 60) == 1)
    }
}
