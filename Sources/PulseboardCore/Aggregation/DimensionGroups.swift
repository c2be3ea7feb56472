/// The per-value series of one dimension, capped: the first `cap` distinct values get their own
/// series, later ones share `other`, so hostile property values cannot exhaust memory.
public struct DimensionGroups: Sendable {
    public static let otherName = "other"
    public let cap: Int
    var index = IdTable()
    public internal(set) var names: [String] = []
    public internal(set) var series: [Series] = []
    /// Index of the shared `other` series, once the cap is reached.
    public internal(set) var otherIndex: Int? = nil
    /// Values that went to `other` because of the cap.
    public internal(set) var overflowEvents: UInt64 = 0

    public init(cap: Int) { self.cap = cap }

    /// The series index for a value (creating it while under the cap).
    @inline(__always)
    mutating func seriesIndex(for value: StringRef, bytes: UnsafeRawBufferPointer, second: Int64) -> Int {
        if let i = index.value(for: value.hash) { return Int(i) }
        if names.count - (otherIndex == nil ? 0 : 1) < cap {
            let i = series.count
            names.append(JSONReader.string(value, in: bytes))
            series.append(Series(second: second, tracksSessionsAndThreads: false))
            _ = index.slot(for: value.hash, initial: Int64(i))
            return i
        }
        overflowEvents += 1
        if let o = otherIndex { return o }
        let o = series.count
        names.append(DimensionGroups.otherName)
        series.append(Series(second: second, tracksSessionsAndThreads: false))
        otherIndex = o
        return o
    }

    /// The series index of a value already seen (or `other`), without creating one.
    @inline(__always)
    func existingIndex(for hash: UInt64) -> Int? {
        if let i = index.value(for: hash) { return Int(i) }
        return otherIndex
    }

    /// The series index of a value given as text, if present.
    public func lookup(_ value: String) -> Int? {
        index.value(for: StableHash.hash(value)).map(Int.init)
    }
}
