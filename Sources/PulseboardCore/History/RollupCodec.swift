/// The byte form of a `Rollup` in the store: a version byte, then varints (most fields are
/// small counts) and two raw doubles; the sketch as offset, zero count and varint bins.
/// A day of one series is typically 100–600 bytes.
public enum RollupCodec {
    static let version: UInt8 = 1

    public static func encode(_ r: Rollup) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + r.responseTimes.bins.count)
        out.append(version)
        for i in 0..<8 { varint(&out, r.byType[i]) }
        varint(&out, r.responseCount)
        varint(&out, zigzag(r.responseSumMicros))
        double(&out, r.responseMaxMs)
        double(&out, r.tokens)
        varint(&out, zigzag(r.spendNanoUSD))
        for v in [r.failedPerformance, r.failedFeatures, r.threadsCompleted, r.threadsAbandoned,
                  r.npsPromoters, r.npsPassives, r.npsDetractors, r.csatResponses, r.csatSatisfied] {
            varint(&out, v)
        }
        let s = r.responseTimes
        varint(&out, UInt64(s.zeroCount))
        varint(&out, zigzag(Int64(s.offset)))
        varint(&out, UInt64(s.bins.count))
        for b in s.bins { varint(&out, UInt64(b)) }
        return out
    }

    /// Decodes `encode`'s bytes; nil when they are not a rollup of a known version.
    public static func decode(_ bytes: some Collection<UInt8>) -> Rollup? {
        var reader = Reader(bytes: Array(bytes))
        guard reader.byte() == version else { return nil }
        var r = Rollup()
        for i in 0..<8 { guard let v = reader.varint() else { return nil }; r.byType[i] = v }
        guard let rc = reader.varint(), let sum = reader.varint(), let mx = reader.double(), let tk = reader.double(),
              let spend = reader.varint() else { return nil }
        r.responseCount = rc
        r.responseSumMicros = unzigzag(sum)
        r.responseMaxMs = mx
        r.tokens = tk
        r.spendNanoUSD = unzigzag(spend)
        var counts: [UInt64] = []
        for _ in 0..<9 { guard let v = reader.varint() else { return nil }; counts.append(v) }
        (r.failedPerformance, r.failedFeatures, r.threadsCompleted, r.threadsAbandoned) = (counts[0], counts[1], counts[2], counts[3])
        (r.npsPromoters, r.npsPassives, r.npsDetractors) = (counts[4], counts[5], counts[6])
        (r.csatResponses, r.csatSatisfied) = (counts[7], counts[8])
        guard let zero = reader.varint(), let off = reader.varint(), let n = reader.varint(), n <= 1 << 16 else { return nil }
        var sketch = QuantileSketch()
        sketch.zeroCount = UInt32(truncatingIfNeeded: zero)
        sketch.offset = Int32(truncatingIfNeeded: unzigzag(off))
        var total = UInt64(zero)
        sketch.bins.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let b = reader.varint() else { return nil }
            sketch.bins.append(UInt32(truncatingIfNeeded: b))
            total += b
        }
        sketch.count = UInt32(truncatingIfNeeded: total)
        r.responseTimes = sketch
        guard reader.atEnd else { return nil }
        return r
    }

    @inline(__always) static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inline(__always) static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    static func varint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func double(_ out: inout [UInt8], _ v: Double) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }

    struct Reader {
        var bytes: [UInt8]
        var pos = 0
        var atEnd: Bool { pos == bytes.count }

        mutating func byte() -> UInt8? {
            guard pos < bytes.count else { return nil }
            defer { pos += 1 }
            return bytes[pos]
        }

        mutating func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while let b = byte() {
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
                if shift > 63 { return nil }
            }
            return nil
        }

        mutating func double() -> Double? {
            guard pos + 8 <= bytes.count else { return nil }
            var bits: UInt64 = 0
            for i in 0..<8 { bits |= UInt64(bytes[pos + i]) << UInt64(8 * i) }
            pos += 8
            return Double(bitPattern: bits)
        }
    }
}
