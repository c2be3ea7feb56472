import PulseboardCore
import Testing

@Suite struct IdTableTests {
    @Test func insertLookupRemoveAndSweepAgreeWithADictionary() {
        var rng = SplitMix64(seed: 99)
        var table = IdTable()
        var reference: [UInt64: Int64] = [:]
        for step in 0..<50_000 {
            let key = rng.next() % 5000 &* 0x9E37_79B9_7F4A_7C15
            switch rng.next() % 3 {
            case 0, 1:
                let (slot, inserted) = table.slot(for: key, initial: Int64(step))
                #expect(inserted == (reference[key] == nil))
                if !inserted { table[slot: slot] = Int64(step) }
                reference[key] = Int64(step)
            default:
                #expect(table.remove(key) == (reference.removeValue(forKey: key) != nil))
            }
        }
        #expect(table.count == reference.count)
        for (k, v) in reference { #expect(table.value(for: k) == v) }
        var cursor = 0
        for _ in 0..<4 { cursor = table.sweep(from: cursor, count: table.capacity / 3 + 1) { $0 < 25_000 } }
        reference = reference.filter { $0.value >= 25_000 }
        #expect(table.count == reference.count)
        for (k, v) in reference { #expect(table.value(for: k) == v) }
    }
}

@Suite struct IdTableCopyTests {
    /// Tables are values: a copy taken mid-growth (old slots still migrating) and then changed
    /// leaves the original as it was.
    @Test func copiesAreIndependentDuringGrowth() {
        var table = IdTable()
        for k in 1...1_000 { _ = table.slot(for: UInt64(k) &* 0x9E37_79B9_7F4A_7C15, initial: Int64(k)) }
        let original = table
        var copy = table
        for k in 1...500 { copy.remove(UInt64(k) &* 0x9E37_79B9_7F4A_7C15) }
        for k in 2_000...3_000 { _ = copy.slot(for: UInt64(k) &* 0x9E37_79B9_7F4A_7C15, initial: Int64(k)) }
        #expect(original.count == 1_000)
        #expect(copy.count == 1_501)
        for k in 1...1_000 { #expect(original.value(for: UInt64(k) &* 0x9E37_79B9_7F4A_7C15) == Int64(k)) }
        #expect(copy.value(for: 1 &* 0x9E37_79B9_7F4A_7C15) == nil)
        #expect(copy.value(for: 2_500 &* 0x9E37_79B9_7F4A_7C15) == 2_500)
        #expect(original.value(for: 2_500 &* 0x9E37_79B9_7F4A_7C15) == nil)
    }

    /// Past 65,536 slots a table maps its next table's pages ahead of growth and gives the old
    /// table's pages back as they are migrated. Every id survives both, and a copy taken while
    /// the old table is still migrating keeps its ids when the original releases pages later.
    @Test func largeTablesKeepEveryIdThroughGrowthAndPageRelease() {
        func key(_ k: Int) -> UInt64 { UInt64(k) &* 0x9E37_79B9_7F4A_7C15 }
        var table = IdTable()
        var copy = IdTable()
        for k in 1...300_000 {
            _ = table.slot(for: key(k), initial: Int64(k))
            if k == 140_000 { copy = table }  // 262,144 old slots migrating into 524,288
        }
        #expect(table.count == 300_000)
        #expect(table.capacity == 1 << 20)
        for k in stride(from: 1, through: 300_000, by: 7) { #expect(table.value(for: key(k)) == Int64(k)) }
        #expect(copy.count == 140_000)
        for k in stride(from: 1, through: 140_000, by: 3) { #expect(copy.value(for: key(k)) == Int64(k)) }
        #expect(copy.value(for: key(140_001)) == nil)
    }
}
