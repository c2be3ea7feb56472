/// An open-addressing hash table from 64-bit ids to 64-bit values, made for the hot path.
///
/// Keys are `StableHash` outputs, already uniformly mixed, so the table indexes with their low
/// bits instead of hashing again (Swift's `Dictionary` would run SipHash on every lookup).
/// Linear probing, load ≤ 1/2, backward-shift deletion: one or two cache lines per lookup.
public struct IdTable: Sendable {
    var keys: [UInt64]
    var values: [Int64]
    public private(set) var count = 0
    var mask: Int

    public init(capacity: Int = 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// 0 marks an empty slot, so id 0 is stored as 1.
    @inline(__always) static func normalize(_ key: UInt64) -> UInt64 { key == 0 ? 1 : key }

    /// The slot of `key`, inserting it with `initial` when absent.
    @inline(__always)
    public mutating func slot(for rawKey: UInt64, initial: Int64) -> (slot: Int, inserted: Bool) {
        let key = IdTable.normalize(rawKey)
        if count * 2 >= keys.count { grow() }
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return (i, false) }
            if k == 0 {
                keys[i] = key
                values[i] = initial
                count += 1
                return (i, true)
            }
            i = (i + 1) & mask
        }
    }

    /// The value of `key`, if present.
    @inline(__always)
    public func value(for rawKey: UInt64) -> Int64? {
        let key = IdTable.normalize(rawKey)
        var i = Int(truncatingIfNeeded: key) & mask
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    @inline(__always) public subscript(slot slot: Int) -> Int64 {
        get { values[slot] }
        set { values[slot] = newValue }
    }

    /// Removes `key`; true if it was present.
    @discardableResult
    public mutating func remove(_ rawKey: UInt64) -> Bool {
        let key = IdTable.normalize(rawKey)
        var i = Int(truncatingIfNeeded: key) & mask
        while keys[i] != key {
            if keys[i] == 0 { return false }
            i = (i + 1) & mask
        }
        // Backward-shift deletion keeps probe chains intact without tombstones.
        var hole = i
        var j = (i + 1) & mask
        while keys[j] != 0 {
            let home = Int(truncatingIfNeeded: keys[j]) & mask
            let distanceFromHome = (j - home) & mask
            let distanceFromHole = (j - hole) & mask
            if distanceFromHome >= distanceFromHole {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        keys[hole] = 0
        values[hole] = 0
        count -= 1
        return true
    }

    /// Removes expired entries from `count` slots starting at `cursor`; returns where to go on.
    /// Spreading this over time keeps a sweep from ever pausing the hot path.
    public mutating func sweep(from cursor: Int, count slots: Int, expired: (Int64) -> Bool) -> Int {
        var i = cursor & mask
        var left = min(slots, keys.count)
        while left > 0 {
            if keys[i] != 0, expired(values[i]) {
                remove(keys[i])  // backward shift may move a later entry into `i`: look again
            } else {
                i = (i + 1) & mask
            }
            left -= 1
        }
        return i
    }

    /// Slots in the table.
    public var capacity: Int { keys.count }

    /// Keeps only the entries whose value satisfies `keep` (rebuilds the table).
    public mutating func filter(_ keep: (Int64) -> Bool) {
        var next = IdTable(capacity: max(16, count))
        for i in keys.indices where keys[i] != 0 && keep(values[i]) {
            let (s, _) = next.slot(for: keys[i], initial: values[i])
            next.values[s] = values[i]
        }
        self = next
    }

    mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let size = keys.count * 2
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        mask = size - 1
        count = 0
        for i in oldKeys.indices where oldKeys[i] != 0 {
            let (s, _) = slot(for: oldKeys[i], initial: oldValues[i])
            values[s] = oldValues[i]
        }
    }

    public var memoryBytes: Int { keys.count * 16 }
}
