import PulseboardCore
import Testing
@testable import PulseboardEngine

/// The dedup set's FIFO of ids (`ChunkedQueue`) and the set itself across chunk boundaries.
@Suite struct DedupSetTests {
    @Test func chunkedQueueAgreesWithAnArrayAcrossChunks() {
        var rng = SplitMix64(seed: 7)
        var queue = ChunkedQueue<(id: UInt64, second: Int64)>()
        var model: [(id: UInt64, second: Int64)] = []
        var modelHead = 0
        // Mostly appends, so the queue spans several 4,096-element chunks; removals at both ends.
        for step in 0..<60_000 {
            switch rng.next() % 10 {
            case 0...6:
                queue.append((rng.next(), Int64(step)))
                model.append(queue.last!)
            case 7...8:
                guard modelHead < model.count else { continue }
                let e = queue.removeFirst()
                #expect(e.id == model[modelHead].id && e.second == model[modelHead].second)
                modelHead += 1
            default:
                guard modelHead < model.count else { continue }
                let e = queue.removeLast()
                let expected = model.removeLast()
                #expect(e.id == expected.id && e.second == expected.second)
            }
            #expect(queue.count == model.count - modelHead)
        }
        #expect(queue.count > 3 * ChunkedQueue<(id: UInt64, second: Int64)>.chunkCapacity)
        var seen: [UInt64] = []
        queue.forEach { seen.append($0.id) }
        #expect(seen == model[modelHead...].map(\.id))
        #expect(queue.first?.id == model[modelHead].id)
        while !queue.isEmpty { queue.removeFirst() }
        #expect(queue.first == nil && queue.last == nil)
        queue.append((1, 1))
        #expect(queue.count == 1 && queue.first?.id == 1)
    }

    /// Event ids as the decoder hashes them (the table indexes by their low bits).
    static func id(_ i: Int) -> UInt64 { StableHash.fmix(UInt64(i)) }

    @Test func insertsForgetIdsPastTheHorizonAFewAtATime() {
        let id = DedupSetTests.id
        var set = DedupSet(horizonSeconds: 10, maxIds: 12_000)
        // 10,000 ids over seconds 0...9: 1,000 a second.
        var fresh = 0
        for i in 0..<10_000 where set.insert(id(i + 1), second: Int64(i / 1000)) { fresh += 1 }
        #expect(fresh == 10_000)
        let duplicate = set.insert(id(5), second: 9)
        #expect(!duplicate)
        // The last insert rolled back (a batch the journal refused) can be inserted again.
        set.rollback(id(10_000))
        #expect(set.count == 9_999)
        let reinserted = set.insert(id(10_000), second: 9)
        #expect(reinserted)
        // At second 12 seconds 0 and 1 are past the horizon: an insert drops two of them, the
        // once-a-second upkeep up to its limit, then the rest.
        _ = set.insert(id(50_000), second: 12)
        #expect(set.count == 9_999)
        #expect(set.expire(now: 12, limit: 100) == 0)
        #expect(set.count == 9_899)
        #expect(set.expire(now: 12) == 0)
        #expect(set.count == 8_001)
        // At second 13, id 2,500 (second 2) is past the horizon but not dropped yet: it is new
        // again, and the older ids before it go with it. Id 3,001 (second 3) is still held.
        let expiredId = set.insert(id(2_500), second: 13)
        #expect(expiredId)
        #expect(set.count == 7_502)
        let heldId = set.insert(id(3_001), second: 13)
        #expect(!heldId)
    }

    @Test func overTheCapEachInsertForgetsTheOldest() {
        let id = DedupSetTests.id
        var set = DedupSet(horizonSeconds: 1000, maxIds: 1_000)
        for i in 0..<1_500 { _ = set.insert(id(i + 1), second: 0) }
        #expect(set.count == 1_000)
        #expect(set.expire(now: 0) == 500)
        #expect(set.expire(now: 0) == 0)
        let oldest = set.insert(id(1), second: 0)
        #expect(oldest)
        // A duplicate forgets nothing; the new id above forgot the oldest.
        let newest = set.insert(id(1_500), second: 0)
        #expect(!newest)
        #expect(set.count == 1_000)
        #expect(set.expire(now: 0) == 1)
    }
}
