/// Interns user ids (by stable hash) to dense integers, the bit positions of `UserBitset`.
/// A forgotten user loses its entry; its index is never reused.
public struct UserDirectory: Sendable {
    var indices: [UInt64: UInt32] = [:]
    public private(set) var nextIndex: UInt32 = 0

    public init() {}

    /// Users currently known.
    public var count: Int { indices.count }

    /// The index of `hash`, interning it when new.
    @inline(__always)
    public mutating func intern(_ hash: UInt64) -> (index: UInt32, created: Bool) {
        if let i = indices[hash] { return (i, false) }
        let i = nextIndex
        nextIndex += 1
        indices[hash] = i
        return (i, true)
    }

    public func index(of hash: UInt64) -> UInt32? { indices[hash] }

    /// Restores a stored mapping.
    public mutating func restore(hash: UInt64, index: UInt32) {
        indices[hash] = index
        if index >= nextIndex { nextIndex = index + 1 }
    }

    /// Makes sure no index below `next` is handed out again (forgotten users' indices stay retired).
    public mutating func reserve(after next: UInt32) {
        if next > nextIndex { nextIndex = next }
    }

    /// Forgets a user; returns its index if it was known.
    public mutating func forget(_ hash: UInt64) -> UInt32? {
        indices.removeValue(forKey: hash)
    }

    public var memoryBytes: Int { indices.capacity * 16 }
}
