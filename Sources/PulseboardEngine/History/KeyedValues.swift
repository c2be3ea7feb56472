import PulseboardCore

/// A key that packs into a unique, non-zero 64-bit integer.
protocol PackedKey: Sendable {
    var packed: UInt64 { get }
}

/// A map for History's per-event path: values in an array, found through an `IdTable` (open
/// addressing on the mixed packed key) instead of a `Dictionary`, whose SipHash would run
/// several times per event. Keys pack without collisions, so the mixed key identifies them.
struct KeyedValues<Key: PackedKey, Value: Sendable>: Sequence, Sendable {
    var table = IdTable()
    var keys: [Key] = []
    var values: [Value] = []

    var isEmpty: Bool { keys.isEmpty }
    var count: Int { keys.count }

    /// The value of `key`, inserting `initial()` first when absent.
    subscript(key: Key, default initial: @autoclosure () -> Value) -> Value {
        get {
            table.value(for: StableHash.fmix(key.packed)).map { values[Int($0)] } ?? initial()
        }
        _modify {
            let (slot, inserted) = table.slot(for: StableHash.fmix(key.packed), initial: Int64(values.count))
            if inserted {
                keys.append(key)
                values.append(initial())
            }
            yield &values[Int(table[slot: slot])]
        }
    }

    /// Lets `body` change every value in place.
    mutating func updateEach(_ body: (Key, inout Value) -> Void) {
        for i in values.indices { body(keys[i], &values[i]) }
    }

    func makeIterator() -> Zip2Sequence<[Key], [Value]>.Iterator { zip(keys, values).makeIterator() }
}

extension Int64: PackedKey {
    /// Day numbers and minutes: the low 32 bits, tagged so the packing is never zero.
    var packed: UInt64 { 1 << 63 | UInt64(UInt32(truncatingIfNeeded: self)) }
}
