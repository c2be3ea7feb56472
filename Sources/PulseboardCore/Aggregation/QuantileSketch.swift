import Foundation

/// A DDSketch-style quantile sketch with 1 % relative accuracy.
///
/// Values fall in logarithmic bins (`γ = 1.01/0.99`), so any quantile it returns is within 1 % of
/// the true value at that rank. Bins are plain counts: sketches merge *and subtract* exactly,
/// which is what lets sliding windows keep running totals.
public struct QuantileSketch: Sendable, Equatable {
    /// Guaranteed relative error of every quantile.
    public static let relativeAccuracy = 0.01
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let inverseLogGamma = 1 / log(gamma)
    /// Values below this count as zero.
    public static let minValue = 1e-3
    /// Values above this are clamped (about 11.5 days in milliseconds).
    public static let maxValue = 1e9
    /// Key of the zero bin.
    public static let zeroKey = Int32.min

    var offset: Int32 = 0
    var bins: ContiguousArray<UInt32> = []
    public internal(set) var zeroCount: UInt32 = 0
    public internal(set) var count: UInt32 = 0

    public init() {}

    /// The bin key of a value (computed once per event, then added to several sketches).
    @inline(__always)
    public static func key(for value: Double) -> Int32 {
        if !(value >= minValue) { return zeroKey }
        return Int32((log(min(value, maxValue)) * inverseLogGamma).rounded(.up))
    }

    /// The representative value of a bin: within `relativeAccuracy` of everything in it.
    @inline(__always)
    public static func value(forKey key: Int32) -> Double {
        key == zeroKey ? 0 : 2 * pow(gamma, Double(key)) / (gamma + 1)
    }

    public var isEmpty: Bool { count == 0 }

    /// Adds `n` values of bin `key`.
    @inline(__always)
    public mutating func add(key: Int32, count n: UInt32 = 1) {
        count &+= n
        if key == QuantileSketch.zeroKey { zeroCount &+= n; return }
        if bins.isEmpty {
            offset = key
            bins.append(n)
            return
        }
        if key < offset {
            let grow = Int(offset - key)
            bins.insert(contentsOf: repeatElement(0, count: grow), at: 0)
            offset = key
        } else if Int(key - offset) >= bins.count {
            bins.append(contentsOf: repeatElement(0, count: Int(key - offset) - bins.count + 1))
        }
        bins[Int(key - offset)] &+= n
    }

    /// Adds a value.
    public mutating func add(_ value: Double) { add(key: QuantileSketch.key(for: value)) }

    /// Adds every value of `other`.
    public mutating func merge(_ other: QuantileSketch) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        count &+= other.count
        zeroCount &+= other.zeroCount
        guard !other.bins.isEmpty else { return }
        if bins.isEmpty {
            offset = other.offset
            bins = other.bins
            return
        }
        // Widen once to cover both ranges, then add bin by bin.
        let otherEnd = Int(other.offset) + other.bins.count
        if other.offset < offset {
            bins.insert(contentsOf: repeatElement(0, count: Int(offset - other.offset)), at: 0)
            offset = other.offset
        }
        if otherEnd > Int(offset) + bins.count {
            bins.append(contentsOf: repeatElement(0, count: otherEnd - Int(offset) - bins.count))
        }
        let shift = Int(other.offset - offset)
        bins.withUnsafeMutableBufferPointer { mine in
            other.bins.withUnsafeBufferPointer { theirs in
                for i in theirs.indices { mine[shift + i] &+= theirs[i] }
            }
        }
    }

    /// Removes every value of `other`, which must have been merged in before.
    public mutating func subtract(_ other: QuantileSketch) {
        guard other.count > 0 else { return }
        count &-= other.count
        zeroCount &-= other.zeroCount
        for (i, c) in other.bins.enumerated() where c > 0 {
            bins[Int(other.offset + Int32(i) - offset)] &-= c
        }
        if count == 0 { bins.removeAll(keepingCapacity: true); zeroCount = 0 }
    }

    /// The value at quantile `q` (0…1), using the rank `floor(q · (n − 1))`; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = UInt64((min(max(q, 0), 1) * Double(count - 1)).rounded(.down))
        var seen = UInt64(zeroCount)
        if seen > rank { return 0 }
        for (i, c) in bins.enumerated() {
            seen += UInt64(c)
            if seen > rank { return QuantileSketch.value(forKey: offset + Int32(i)) }
        }
        return QuantileSketch.value(forKey: offset + Int32(bins.count - 1))
    }

    /// One bar of a histogram: values in `lower..<upper` and how many there were.
    public struct Bin: Sendable, Equatable {
        public var lower: Double
        public var upper: Double
        public var count: UInt64
    }

    /// The distribution as `bins` equal-width bars from 0 to the 99.5th percentile (rounded up to
    /// a readable step); the few values above it count in the last bar. Empty when empty.
    public func histogram(bins n: Int) -> [Bin] {
        guard count > 0, n > 0, let top = quantile(0.995), top > 0 else { return [] }
        let step = QuantileSketch.niceStep(top / Double(n))
        var out = (0..<n).map { Bin(lower: Double($0) * step, upper: Double($0 + 1) * step, count: 0) }
        out[0].count = UInt64(zeroCount)
        for (i, c) in bins.enumerated() where c > 0 {
            let v = QuantileSketch.value(forKey: offset + Int32(i))
            out[min(n - 1, Int(v / step))].count += UInt64(c)
        }
        return out
    }

    /// The smallest 1, 2 or 5 × 10^k at least `x`.
    static func niceStep(_ x: Double) -> Double {
        let magnitude = pow(10, (log10(x)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * magnitude >= x { return m * magnitude }
        return 10 * magnitude
    }

    public mutating func removeAll() {
        bins.removeAll(keepingCapacity: false)
        zeroCount = 0
        count = 0
        offset = 0
    }

    /// Approximate heap bytes held.
    public var memoryBytes: Int { bins.capacity * 4 }
}
