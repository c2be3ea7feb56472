/// An open-addressing hash table from 64-bit ids to 64-bit values, made for the hot path.
///
/// Keys are `StableHash` outputs, already uniformly mixed, so the table indexes with their low
/// bits instead of hashing again (Swift's `Dictionary` would run SipHash on every lookup).
/// Linear probing, load ≤ 1/2, key and value side by side, backward-shift deletion: one cache
/// line per lookup.
public struct IdTable: Sendable {
    struct Entry: Sendable {
        var key: UInt64
        var value: Int64
    }

    var entries: [Entry]
    public private(set) var count = 0
    var mask: Int

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        entries = Array(repeating: Entry(key: 0, value: 0), count: size)
        mask = size - 1
    }

    /// 0 marks an empty slot, so id 0 is stored as 1.
    @inline(__always) static func normalize(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    /// The slot of `key`, inserting it with `initial` when absent.
    @inline(__always)
    public mutating func slot(for rawKey: UInt64, initial: Int64) -> (slot: Int, inserted: Bool) {
        let key = IdTable.normalize(rawKey)
        if count &* 2 >= entries.count { grow() }
        let mask = self.mask
        return entries.withUnsafeMutableBufferPointer { e in
            var i = Int(truncatingIfNeeded: key) & mask
            while true {
                let k = e[i].key
                if k == key { return (i, false) }
                if k == 0 {
                    e[i] = Entry(key: key, value: initial)
                    count &+= 1
                    return (i, true)
                }
                i = (i &+ 1) & mask
            }
        }
    }

    /// Loads the home slot of `key` and returns its key bits. Issued for many keys before they
    /// are used, these independent loads overlap their cache misses (a software prefetch).
    @inline(__always)
    public func touch(_ rawKey: UInt64) -> UInt64 {
        entries.withUnsafeBufferPointer { $0[Int(truncatingIfNeeded: IdTable.normalize(rawKey)) & mask].key }
    }

    /// The value of `key`, if present.
    @inline(__always)
    public func value(for rawKey: UInt64) -> Int64? {
        let key = IdTable.normalize(rawKey)
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = entries[i].key
            if k == key { return entries[i].value }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    @inline(__always) public subscript(slot slot: Int) -> Int64 {
        get { entries[slot].value }
        set { entries[slot].value = newValue }
    }

    /// Removes `key`; true if it was present.
    @discardableResult
    public mutating func remove(_ rawKey: UInt64) -> Bool {
        let key = IdTable.normalize(rawKey)
        var i = Int(truncatingIfNeeded: key) & mask
        while entries[i].key != key {
            if entries[i].key == 0 { return false }
            i = (i + 1) & mask
        }
        // Backward-shift deletion keeps probe chains intact without tombstones.
        var hole = i
        var j = (i + 1) & mask
        while entries[j].key != 0 {
            let home = Int(truncatingIfNeeded: entries[j].key) & mask
            if (j - home) & mask >= (j - hole) & mask {
                entries[hole] = entries[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        entries[hole] = Entry(key: 0, value: 0)
        count -= 1
        return true
    }

    /// Removes expired entries from `count` slots starting at `cursor`; returns where to go on.
    /// Spreading this over time keeps a sweep from ever pausing the hot path.
    public mutating func sweep(from cursor: Int, count slots: Int, expired: (Int64) -> Bool) -> Int {
        var i = cursor & mask
        var left = min(slots, entries.count)
        while left > 0 {
            if entries[i].key != 0, expired(entries[i].value) {
                remove(entries[i].key)  // backward shift may move a later entry into `i`: look again
            } else {
                i = (i + 1) & mask
            }
            left -= 1
        }
        return i
    }

    /// Slots in the table.
    public var capacity: Int { entries.count }

    /// Keeps only the entries whose value satisfies `keep` (rebuilds the table).
    public mutating func filter(_ keep: (Int64) -> Bool) {
        var next = IdTable(capacity: max(16, count))
        for e in entries where e.key != 0 && keep(e.value) {
            _ = next.slot(for: e.key, initial: e.value)
        }
        self = next
    }

    mutating func grow() {
        let old = entries
        entries = Array(repeating: Entry(key: 0, value: 0), count: old.count * 2)
        mask = entries.count - 1
        count = 0
        for e in old where e.key != 0 { _ = slot(for: e.key, initial: e.value) }
    }

    public var memoryBytes: Int { entries.count * 16 }
}
