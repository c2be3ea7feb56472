import PulseboardCore

/// The on-disk layout of one journal record: an accepted batch exactly as it arrived, plus which
/// of its events were accepted. Replaying a record re-decodes the body with its arrival time, so
/// the journal stays as cheap to write as a `memcpy` and replays into identical windows.
///
/// ```
/// 0  u32 magic "PBRC"      4  u32 length of bytes [16, end)     8  u64 StableHash of [16, end)
/// 16 i64 arrival ms        24 u8 format, 3 bytes padding        28 u32 mask byte count
/// 32 accepted-event bit mask (bit i = event i), then the body
/// ```
public enum JournalRecord {
    public static let magic: UInt32 = 0x4352_4250  // "PBRC" little-endian
    public static let headerSize = 32
    public static let fileMagic: [UInt8] = Array("PBJ1\n\0\0\0".utf8)
    /// Largest record accepted on replay (a body is at most a few MiB).
    public static let maxLength = 256 * 1024 * 1024

    /// A decoded record header and its payload slices.
    public struct View {
        public var arrivalMs: Int64
        public var format: EventDecoder.Format
        public var mask: UnsafeRawBufferPointer
        public var body: UnsafeRawBufferPointer

        /// Whether event `index` of the body was accepted.
        @inline(__always) public func accepted(_ index: Int) -> Bool {
            let byte = index >> 3
            guard byte < mask.count else { return false }
            return mask[byte] & (1 << UInt8(index & 7)) != 0
        }
    }

    /// Writes the 32-byte header for `mask` and `body` into `header`.
    static func header(arrivalMs: Int64, format: EventDecoder.Format, mask: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: headerSize)
        let length = UInt32(16 + mask.count + body.count)
        // Checksum covers [16, end): arrival, format, mask length, mask, body.
        h.withUnsafeMutableBytes { p in
            p.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: length.littleEndian, toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: UInt64(bitPattern: arrivalMs).littleEndian, toByteOffset: 16, as: UInt64.self)
            p.storeBytes(of: format.rawValue, toByteOffset: 24, as: UInt8.self)
            p.storeBytes(of: UInt32(mask.count).littleEndian, toByteOffset: 28, as: UInt32.self)
            let sum = checksum(meta: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(p)[16..<32]), mask: mask, body: body)
            p.storeBytes(of: sum.littleEndian, toByteOffset: 8, as: UInt64.self)
        }
        return h
    }

    static func checksum(meta: UnsafeRawBufferPointer, mask: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> UInt64 {
        let a = StableHash.hash(meta)
        let b = StableHash.hash(mask, seed: a)
        return StableHash.hash(body, seed: b)
    }

    /// Parses the record at `offset` of `bytes`. Returns nil for a short or corrupt record.
    static func parse(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> (View, next: Int)? {
        guard offset + headerSize <= bytes.count else { return nil }
        let magicValue = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
        guard magicValue == magic else { return nil }
        let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)))
        guard length >= 16, length <= maxLength, offset + 16 + length <= bytes.count else { return nil }
        let sum = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
        let maskCount = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 28, as: UInt32.self)))
        guard 16 + maskCount <= length else { return nil }
        let meta = UnsafeRawBufferPointer(rebasing: bytes[(offset + 16)..<(offset + 32)])
        let mask = UnsafeRawBufferPointer(rebasing: bytes[(offset + 32)..<(offset + 32 + maskCount)])
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + 32 + maskCount)..<(offset + 16 + length)])
        guard checksum(meta: meta, mask: mask, body: body) == sum else { return nil }
        guard let format = EventDecoder.Format(rawValue: bytes[offset + 24]) else { return nil }
        let arrival = Int64(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)))
        return (View(arrivalMs: arrival, format: format, mask: mask, body: body), offset + 16 + length)
    }
}
