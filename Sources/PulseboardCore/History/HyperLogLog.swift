import Foundation

/// A HyperLogLog distinct counter (precision 14: 16,384 registers, standard error 0.81 %) over
/// fixed-seed 64-bit hashes, so sketches persist and merge across processes.
///
/// Small sketches stay sparse (a sorted list of `index << 8 | rank`, 4 bytes per register set)
/// and turn dense (one byte per register) past 1,024 registers set, so a sketch per
/// property value per day costs what its users cost. Estimates use linear counting while many
/// registers are empty and the bias-corrected harmonic mean above that.
public struct HyperLogLog: Sendable, Equatable {
    public static let precision = 14
    public static let registerCount = 1 << precision
    /// Relative standard error of an estimate: 1.04 / √m.
    public static let standardError = 1.04 / Double(registerCount).squareRoot()
    static let sparseLimit = registerCount / 16

    /// Sorted `index << 8 | rank` entries while sparse; empty once dense.
    var sparse: [UInt32] = []
    /// One rank per register once dense; empty while sparse.
    var dense: [UInt8] = []

    public init() {}

    public var isEmpty: Bool { sparse.isEmpty && dense.isEmpty }

    /// Adds a key by its stable 64-bit hash (`StableHash`); the hash is remixed so that
    /// structured hashes still spread over the registers.
    @inline(__always)
    public mutating func add(hash: UInt64) {
        let h = StableHash.fmix(hash ^ 0x9E37_79B9_7F4A_7C15)
        let index = Int(h >> UInt64(64 - HyperLogLog.precision))
        let rest = h << UInt64(HyperLogLog.precision) | (1 << UInt64(HyperLogLog.precision - 1))
        set(index: index, rank: UInt8(rest.leadingZeroBitCount + 1))
    }

    @inline(__always)
    mutating func set(index: Int, rank: UInt8) {
        if !dense.isEmpty {
            if dense[index] < rank { dense[index] = rank }
            return
        }
        let entry = UInt32(index) << 8 | UInt32(rank)
        var lo = 0
        var hi = sparse.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if sparse[mid] >> 8 < UInt32(index) { lo = mid + 1 } else { hi = mid }
        }
        if lo < sparse.count, sparse[lo] >> 8 == UInt32(index) {
            if sparse[lo] & 0xFF < UInt32(rank) { sparse[lo] = entry }
            return
        }
        sparse.insert(entry, at: lo)
        if sparse.count > HyperLogLog.sparseLimit { densify() }
    }

    mutating func densify() {
        var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
        for e in sparse { registers[Int(e >> 8)] = UInt8(e & 0xFF) }
        dense = registers
        sparse = []
    }

    /// Merges another sketch in (union of the key sets).
    public mutating func merge(_ other: HyperLogLog) {
        guard other.dense.isEmpty else {
            if dense.isEmpty { densify() }
            for i in 0..<HyperLogLog.registerCount where other.dense[i] > dense[i] { dense[i] = other.dense[i] }
            return
        }
        for e in other.sparse { set(index: Int(e >> 8), rank: UInt8(e & 0xFF)) }
    }

    /// The estimated number of distinct keys added.
    public var estimate: Double {
        let m = Double(HyperLogLog.registerCount)
        var zeros = 0
        var sum = 0.0
        if dense.isEmpty {
            zeros = HyperLogLog.registerCount - sparse.count
            sum = Double(zeros)
            for e in sparse { sum += 1 / Double(1 << UInt64(e & 0xFF)) }
        } else {
            for r in dense {
                if r == 0 { zeros += 1 }
                sum += 1 / Double(1 << UInt64(r))
            }
        }
        let alpha = 0.7213 / (1 + 1.079 / m)
        let raw = alpha * m * m / sum
        if raw <= 2.5 * m, zeros > 0 {
            return m * log(m / Double(zeros))
        }
        return raw
    }

    /// The estimate rounded to a whole count.
    public var count: Int { Int(estimate.rounded()) }

    /// Bytes held.
    public var memoryBytes: Int { sparse.capacity * 4 + dense.capacity }

    // MARK: - Encoding

    /// A compact byte form: `0` + sparse entries (4 bytes each, little-endian) or `1` + registers.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        if dense.isEmpty {
            out.reserveCapacity(1 + sparse.count * 4)
            out.append(0)
            for e in sparse { withUnsafeBytes(of: e.littleEndian) { out.append(contentsOf: $0) } }
        } else {
            out.reserveCapacity(1 + dense.count)
            out.append(1)
            out.append(contentsOf: dense)
        }
        return out
    }

    /// Decodes `encoded()`; nil for bytes that are not a sketch.
    public init?(encoded bytes: some Collection<UInt8>) {
        let a = Array(bytes)
        guard let kind = a.first else { return nil }
        if kind == 1 {
            guard a.count == 1 + HyperLogLog.registerCount else { return nil }
            dense = Array(a[1...])
        } else if kind == 0 {
            guard (a.count - 1) % 4 == 0 else { return nil }
            sparse.reserveCapacity((a.count - 1) / 4)
            var i = 1
            while i < a.count {
                sparse.append(UInt32(a[i]) | UInt32(a[i + 1]) << 8 | UInt32(a[i + 2]) << 16 | UInt32(a[i + 3]) << 24)
                i += 4
            }
        } else {
            return nil
        }
    }
}
