/// Interns user ids (by stable hash) to dense integers, the bit positions of `UserBitset`.
/// A forgotten user loses its entry; its index is never reused.
public struct UserDirectory: Sendable {
    /// User hash → index (open addressing: this runs once per event).
    var indices = IdTable()
    public private(set) var nextIndex: UInt32 = 0

    public init() {}

    /// Users currently known.
    public var count: Int { indices.count }

    /// The index of `hash`, interning it when new.
    @inline(__always)
    public mutating func intern(_ hash: UInt64) -> (index: UInt32, created: Bool) {
        let (slot, inserted) = indices.slot(for: hash, initial: Int64(nextIndex))
        if inserted { nextIndex += 1 }
        return (UInt32(indices[slot: slot]), inserted)
    }

    public func index(of hash: UInt64) -> UInt32? { indices.value(for: hash).map { UInt32($0) } }

    /// Restores a stored mapping.
    public mutating func restore(hash: UInt64, index: UInt32) {
        let (slot, _) = indices.slot(for: hash, initial: Int64(index))
        indices[slot: slot] = Int64(index)
        if index >= nextIndex { nextIndex = index + 1 }
    }

    /// Makes sure no index below `next` is handed out again (forgotten users' indices stay retired).
    public mutating func reserve(after next: UInt32) {
        if next > nextIndex { nextIndex = next }
    }

    /// Forgets a user; returns its index if it was known.
    public mutating func forget(_ hash: UInt64) -> UInt32? {
        guard let index = index(of: hash) else { return nil }
        _ = indices.remove(hash)
        return index
    }

    public var memoryBytes: Int { indices.memoryBytes }
}
