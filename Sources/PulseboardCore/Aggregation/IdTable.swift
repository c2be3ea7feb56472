/// An open-addressing hash table from 64-bit ids to 64-bit values, made for the hot path.
///
/// Keys are `StableHash` outputs, already uniformly mixed, so the table indexes with their low
/// bits instead of hashing again (Swift's `Dictionary` would run SipHash on every lookup).
/// Linear probing, load ≤ 1/2, key and value side by side (one cache line per lookup),
/// backward-shift deletion, and incremental growth: when the table doubles, the old slots move
/// over a few at a time with later operations, and the doubled table's memory was mapped a page
/// every few inserts before, so no single call pays for a whole rehash or a whole allocation.
public struct IdTable: Sendable {
    struct Entry: Sendable, BitwiseCopyable {
        var key: UInt64
        var value: Int64
    }

    var entries: SlotBuffer<Entry>
    var mask: Int
    /// Entries in both tables.
    public internal(set) var count = 0
    /// The table being migrated away from (empty when not growing).
    var old = SlotBuffer<Entry>()
    var oldMask = 0
    var oldCursor = 0
    /// Old slots below this are migrated and their pages given back (large tables only).
    var oldReleased = 0
    /// The next, doubled table, allocated ahead of growth while the load climbs from 7/16 to
    /// 1/2 (large tables only), and its slots below `nextTouched`, whose pages are mapped.
    var next = SlotBuffer<Entry>()
    var nextTouched = 0
    /// Old slots migrated per operation; ≥ 2 guarantees migration ends before the new table fills.
    static let migrationStep = 4
    /// Tables of this many slots (1 MiB) and more map their next table's pages ahead of growth.
    static let prepareFrom = 1 << 16
    /// Migrated old slots given back to the kernel at a time (1 MiB).
    static let releaseStep = 1 << 16
    /// Slots in one 4 KiB page.
    static let slotsPerPage = 4096 / MemoryLayout<Entry>.stride

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = SlotBuffer(zeroed: size)
        mask = size - 1
    }

    /// 0 marks an empty slot, so id 0 is stored as 1.
    @inline(__always) static func normalize(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    @inline(__always) var migrating: Bool { !old.isEmpty }

    /// Finds `key` in `table`: (slot, true) if present, else (first empty slot, false).
    @inline(__always)
    static func probe(_ table: UnsafeBufferPointer<Entry>, _ mask: Int, _ key: UInt64) -> (Int, Bool) {
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = table[i].key
            if k == key { return (i, true) }
            if k == 0 { return (i, false) }
            i = (i &+ 1) & mask
        }
    }

    /// The slot of `key`, inserting it with `initial` when absent.
    @inline(__always)
    public mutating func slot(for rawKey: UInt64, initial: Int64) -> (slot: Int, inserted: Bool) {
        let key = IdTable.normalize(rawKey)
        if migrating {
            migrate(IdTable.migrationStep)
        } else if count &* 2 >= entries.count {
            startGrowing()
        } else if count &* 16 >= entries.count &* 7, entries.count >= IdTable.prepareFrom {
            prepareGrowth()
        }
        let mask = self.mask
        let (i, found) = entries.withUnsafeBufferPointer { IdTable.probe($0, mask, key) }
        if found { return (i, false) }
        var value = initial
        var inserted = true
        if migrating, let j = old.withUnsafeBufferPointer({ t -> Int? in
            let (j, f) = IdTable.probe(t, oldMask, key)
            return f ? j : nil
        }) {
            // Present in the old table: move it over now.
            value = old[j].value
            IdTable.removeAt(j, in: &old, mask: oldMask)
            inserted = false
        } else {
            count &+= 1
        }
        entries[i] = Entry(key: key, value: value)
        return (i, inserted)
    }

    /// Loads the home slot of `key` and returns its key bits. Issued for many keys before they
    /// are used, these independent loads overlap their cache misses (a software prefetch).
    @inline(__always)
    public func touch(_ rawKey: UInt64) -> UInt64 {
        let key = IdTable.normalize(rawKey)
        return entries.withUnsafeBufferPointer { $0[Int(truncatingIfNeeded: key) & mask].key }
    }

    /// The value of `key`, if present.
    @inline(__always)
    public func value(for rawKey: UInt64) -> Int64? {
        let key = IdTable.normalize(rawKey)
        let (i, found) = entries.withUnsafeBufferPointer { IdTable.probe($0, mask, key) }
        if found { return entries[i].value }
        guard migrating else { return nil }
        let (j, inOld) = old.withUnsafeBufferPointer { IdTable.probe($0, oldMask, key) }
        return inOld ? old[j].value : nil
    }

    @inline(__always) public subscript(slot slot: Int) -> Int64 {
        get { entries[slot].value }
        set {
            precondition(UInt(bitPattern: slot) < UInt(bitPattern: entries.count), "slot index out of range")
            entries.withUnsafeMutableBufferPointer { $0[slot].value = newValue }
        }
    }

    /// Removes `key`; true if it was present.
    @discardableResult
    public mutating func remove(_ rawKey: UInt64) -> Bool {
        let key = IdTable.normalize(rawKey)
        let (i, found) = entries.withUnsafeBufferPointer { IdTable.probe($0, mask, key) }
        if found {
            IdTable.removeAt(i, in: &entries, mask: mask)
            count -= 1
            return true
        }
        guard migrating else { return false }
        let (j, inOld) = old.withUnsafeBufferPointer { IdTable.probe($0, oldMask, key) }
        guard inOld else { return false }
        IdTable.removeAt(j, in: &old, mask: oldMask)
        count -= 1
        return true
    }

    /// Backward-shift deletion: keeps probe chains intact without tombstones.
    static func removeAt(_ i: Int, in table: inout SlotBuffer<Entry>, mask: Int) {
        table.withUnsafeMutableBufferPointer { t in
            var hole = i
            var j = (i + 1) & mask
            while t[j].key != 0 {
                let home = Int(truncatingIfNeeded: t[j].key) & mask
                if (j - home) & mask >= (j - hole) & mask {
                    t[hole] = t[j]
                    hole = j
                }
                j = (j + 1) & mask
            }
            t[hole] = Entry(key: 0, value: 0)
        }
    }

    mutating func startGrowing() {
        old = entries
        oldMask = mask
        oldCursor = 0
        oldReleased = 0
        if next.count == old.count * 2 {
            entries = next
        } else {
            entries = SlotBuffer(zeroed: old.count * 2)
        }
        next = SlotBuffer()
        nextTouched = 0
        mask = entries.count - 1
    }

    /// Maps the next table's pages by writing to them, paced by the inserts: a page every
    /// fourth insert maps them all by the time the load reaches 15/32, halfway to growth.
    /// A page first read (as probing does) is mapped to the shared zero page and faults again,
    /// with a TLB flush on every core, when first written; one written first faults once.
    /// Mapping a page on every insert instead made a burst of page faults that halved ingest
    /// for a third of a second at 3.5 M dedup ids (one fault costs several µs on a VM).
    mutating func prepareGrowth() {
        if next.isEmpty { next = SlotBuffer(zeroed: entries.count * 2) }
        guard nextTouched < next.count else { return }
        // From 7/16 to 15/32 of the table's slots, `span` inserts, map next.count slots.
        let span = entries.count / 32
        let done = count - entries.count / 16 * 7
        guard nextTouched / IdTable.slotsPerPage < (done + 1) * (next.count / IdTable.slotsPerPage) / span else { return }
        next.touchPage(at: nextTouched)
        nextTouched += IdTable.slotsPerPage
    }

    /// Moves up to `n` slots of the old table into the new one.
    mutating func migrate(_ n: Int) {
        var left = n
        while left > 0 {
            guard oldCursor < old.count else {
                old = SlotBuffer()
                oldReleased = 0
                return
            }
            let e = old[oldCursor]
            if e.key != 0 {
                let mask = self.mask
                entries.withUnsafeMutableBufferPointer { t in
                    let (i, _) = IdTable.probe(UnsafeBufferPointer(t), mask, e.key)
                    t[i] = e
                }
                // Removing shifts a later entry into this slot: look at it again.
                IdTable.removeAt(oldCursor, in: &old, mask: oldMask)
            } else {
                oldCursor += 1
                if oldCursor - oldReleased >= IdTable.releaseStep {
                    old.releasePages(oldReleased..<oldCursor)
                    oldReleased = oldCursor
                }
            }
            left -= 1
        }
    }

    /// Removes expired entries from `count` slots starting at `cursor`; returns where to go on.
    /// Spreading this over time keeps a sweep from ever pausing the hot path.
    public mutating func sweep(from cursor: Int, count slots: Int, expired: (Int64) -> Bool) -> Int {
        if migrating { migrate(slots) }
        var i = cursor & mask
        var left = min(slots, entries.count)
        while left > 0 {
            if entries[i].key != 0, expired(entries[i].value) {
                IdTable.removeAt(i, in: &entries, mask: mask)  // a later entry may shift into `i`: look again
                count -= 1
            } else {
                i = (i + 1) & mask
            }
            left -= 1
        }
        return i
    }

    /// Slots in the table.
    public var capacity: Int { entries.count }

    public var memoryBytes: Int { (entries.count + old.count - oldReleased + min(nextTouched, next.count)) * 16 }
}
