/// A fixed-seed 64-bit hash over bytes.
///
/// Swift's `Hasher` is reseeded every process, so nothing built with it can be persisted, merged or
/// compared across restarts. Pulseboard hashes ids, dimension values and journal records with this
/// instead: same bytes, same hash, in every process (murmur3-style block mixing, fmix64 finalizer).
public enum StableHash {
    public static let defaultSeed: UInt64 = 0x5075_6C73_6562_6F61  // "Pulseboa"

    /// Hashes `bytes` with `seed`.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = defaultSeed) -> UInt64 {
        let n = bytes.count
        var h = seed ^ (UInt64(truncatingIfNeeded: n) &* 0x9E37_79B9_7F4A_7C15)
        var i = 0
        if let base = bytes.baseAddress {
            while i &+ 8 <= n {
                let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                h = ((h ^ mixBlock(w)) << 27 | (h ^ mixBlock(w)) >> 37) &* 5 &+ 0x52DC_E729
                i &+= 8
            }
            if i < n {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < n {
                    tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
                    shift &+= 8
                    i &+= 1
                }
                h ^= mixBlock(tail)
            }
        }
        return fmix(h ^ UInt64(truncatingIfNeeded: n))
    }

    /// Hashes the UTF-8 bytes of `string`.
    @inlinable
    public static func hash(_ string: String, seed: UInt64 = defaultSeed) -> UInt64 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Hashes a byte array.
    @inlinable
    public static func hash(_ bytes: [UInt8], seed: UInt64 = defaultSeed) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    @inlinable
    static func mixBlock(_ w: UInt64) -> UInt64 {
        var k = w &* 0x87C3_7B91_1142_53D5
        k = k << 31 | k >> 33
        return k &* 0x4CF5_AD43_2745_937F
    }

    /// The murmur3 64-bit finalizer: full avalanche of a 64-bit value.
    @inlinable
    public static func fmix(_ value: UInt64) -> UInt64 {
        var k = value
        k ^= k >> 33
        k &*= 0xFF51_AFD7_ED55_8CCD
        k ^= k >> 33
        k &*= 0xC4CE_B9FE_1A85_EC53
        k ^= k >> 33
        return k
    }
}
