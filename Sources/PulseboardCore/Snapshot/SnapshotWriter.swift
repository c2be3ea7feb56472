/// Appends plain values and arrays of them to a byte buffer, in this machine's layout: the
/// format of the window checkpoint, which only the same build reads back (its header says so).
///
/// ```swift
/// var w = SnapshotWriter()
/// w.write(Int64(42))
/// w.write([1, 2, 3] as [Int32])
/// let bytes = w.bytes
/// ```
public struct SnapshotWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity n: Int = 0) { bytes.reserveCapacity(n) }

    /// One plain value.
    public mutating func write<T: BitwiseCopyable>(_ value: T) {
        withUnsafeBytes(of: value) { bytes.append(contentsOf: $0) }
    }

    /// An array of plain values: its count, then its elements as they lie in memory.
    public mutating func write<T: BitwiseCopyable>(_ values: [T]) {
        write(Int64(values.count))
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A contiguous array of plain values.
    public mutating func write<T: BitwiseCopyable>(_ values: ContiguousArray<T>) {
        write(Int64(values.count))
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// A buffer of plain values, written as an array of them.
    public mutating func write<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>) {
        write(Int64(values.count))
        bytes.append(contentsOf: UnsafeRawBufferPointer(values))
    }

    /// A string as UTF-8 with its length.
    public mutating func write(_ string: String) {
        write(Array(string.utf8))
    }

    /// A boolean as one byte.
    public mutating func write(_ flag: Bool) { write(UInt8(flag ? 1 : 0)) }
}
