/// Reads back what `SnapshotWriter` wrote, bounds-checking every read: a short or damaged
/// buffer throws `SnapshotError`, never reads past the end. Use it only while the buffer lives
/// (inside its `withUnsafeBytes`).
public struct SnapshotReader {
    let buffer: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    /// Bytes not yet read.
    public var remaining: Int { buffer.count - offset }

    mutating func take(_ n: Int, _ what: @autoclosure () -> String) throws(SnapshotError) -> UnsafeRawBufferPointer {
        guard n >= 0, n <= remaining else {
            throw SnapshotError("\(what()) needs \(n) bytes at offset \(offset), \(remaining) left")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + n)])
    }

    /// One plain value.
    public mutating func read<T: BitwiseCopyable>(_: T.Type = T.self) throws(SnapshotError) -> T {
        try take(MemoryLayout<T>.size, "\(T.self)").loadUnaligned(as: T.self)
    }

    /// An element count, checked against `limit`.
    public mutating func readCount(limit: Int = .max, _ what: @autoclosure () -> String) throws(SnapshotError) -> Int {
        let n: Int64 = try read()
        guard n >= 0, n <= Int64(limit) else { throw SnapshotError("\(what()): count \(n) is out of range (0…\(limit))") }
        return Int(n)
    }

    /// An array of plain values, optionally of an exact length.
    public mutating func readArray<T: BitwiseCopyable>(_: T.Type = T.self, count expected: Int? = nil) throws(SnapshotError) -> [T] {
        let n = try readCount(limit: remaining / max(1, MemoryLayout<T>.stride), "[\(T.self)]")
        if let expected, n != expected { throw SnapshotError("[\(T.self)] has \(n) elements, expected \(expected)") }
        let raw = try take(n * MemoryLayout<T>.stride, "[\(T.self)]")
        return [T](unsafeUninitializedCapacity: n) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
            initialized = n
        }
    }

    /// A contiguous array of plain values.
    public mutating func readContiguousArray<T: BitwiseCopyable>(_: T.Type = T.self) throws(SnapshotError) -> ContiguousArray<T> {
        let n = try readCount(limit: remaining / max(1, MemoryLayout<T>.stride), "[\(T.self)]")
        let raw = try take(n * MemoryLayout<T>.stride, "[\(T.self)]")
        return ContiguousArray<T>(unsafeUninitializedCapacity: n) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: raw)
            initialized = n
        }
    }

    /// A string written by `SnapshotWriter.write(_: String)`.
    public mutating func readString() throws(SnapshotError) -> String {
        let utf8: [UInt8] = try readArray()
        return String(decoding: utf8, as: UTF8.self)
    }

    /// A boolean.
    public mutating func readBool() throws(SnapshotError) -> Bool { try read(UInt8.self) != 0 }
}

/// A checkpoint that cannot be read back: what was wrong, for the log.
public struct SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
