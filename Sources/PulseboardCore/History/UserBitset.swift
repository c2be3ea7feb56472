/// One bit per interned user (dense index from `UserDirectory`): the users active on one day.
/// DAU is a popcount, WAU/MAU a union, churn and returning users an and-not / and, and a
/// deleted user is one cleared bit. 1 M users cost 125 KB per day.
public struct UserBitset: Sendable, Equatable {
    public private(set) var words: [UInt64]

    public init() { words = [] }

    public init(words: [UInt64]) {
        self.words = words
        trim()
    }

    @inline(__always)
    public mutating func insert(_ user: UInt32) {
        let w = Int(user >> 6)
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: w - words.count + 1)) }
        words[w] |= 1 << UInt64(user & 63)
    }

    public mutating func remove(_ user: UInt32) {
        let w = Int(user >> 6)
        guard w < words.count else { return }
        words[w] &= ~(1 << UInt64(user & 63))
        trim()
    }

    public func contains(_ user: UInt32) -> Bool {
        let w = Int(user >> 6)
        return w < words.count && words[w] & (1 << UInt64(user & 63)) != 0
    }

    /// Number of users set.
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    public var isEmpty: Bool { words.isEmpty }

    public mutating func formUnion(_ o: UserBitset) {
        if o.words.count > words.count { words.append(contentsOf: repeatElement(0, count: o.words.count - words.count)) }
        for i in o.words.indices { words[i] |= o.words[i] }
    }

    /// Users in `self` and not in `o`.
    public func subtracting(_ o: UserBitset) -> UserBitset {
        var out = words
        for i in 0..<min(out.count, o.words.count) { out[i] &= ~o.words[i] }
        return UserBitset(words: out)
    }

    /// Number of users in both.
    public func intersectionCount(_ o: UserBitset) -> Int {
        var n = 0
        for i in 0..<min(words.count, o.words.count) { n += (words[i] & o.words[i]).nonzeroBitCount }
        return n
    }

    mutating func trim() {
        while let last = words.last, last == 0 { words.removeLast() }
    }

    public var memoryBytes: Int { words.capacity * 8 }

    /// Little-endian words.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(words.count * 8)
        for w in words { withUnsafeBytes(of: w.littleEndian) { out.append(contentsOf: $0) } }
        return out
    }

    public init?(encoded bytes: some Collection<UInt8>) {
        let a = Array(bytes)
        guard a.count % 8 == 0 else { return nil }
        var words: [UInt64] = []
        words.reserveCapacity(a.count / 8)
        var i = 0
        while i < a.count {
            var w: UInt64 = 0
            for b in 0..<8 { w |= UInt64(a[i + b]) << UInt64(8 * b) }
            words.append(w)
            i += 8
        }
        self.init(words: words)
    }
}
