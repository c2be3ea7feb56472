/// Names the series history is kept for: id 0 is all traffic, every other id one value of one
/// tracked dimension (`model_used = gpt-4o`). Capped per dimension like the live windows: past
/// `cap` values a dimension's new values share its `other` series.
public struct SeriesCatalog: Sendable {
    /// One series: its dimension and value (both empty for all traffic).
    public struct Entry: Sendable, Equatable {
        public var dimension: String
        public var value: String
        public init(dimension: String, value: String) {
            self.dimension = dimension
            self.value = value
        }
    }

    public static let all: Int32 = 0
    public let cap: Int
    public private(set) var entries: [Entry] = [Entry(dimension: "", value: "")]
    /// Mixed (dimension, value) hash → id (open addressing: this runs per dimension per event).
    var ids = IdTable()
    var perDimension: [String: Int] = [:]

    public init(cap: Int) { self.cap = cap }

    @inline(__always)
    static func key(_ dimensionHash: UInt64, _ valueHash: UInt64) -> UInt64 { StableHash.fmix(dimensionHash ^ valueHash) }

    static func key(_ dimension: String, _ value: String) -> UInt64 { key(StableHash.hash(dimension), StableHash.hash(value)) }

    /// The id of an existing series.
    public func id(dimension: String, value: String) -> Int32? { ids.value(for: SeriesCatalog.key(dimension, value)).map { Int32($0) } }

    /// The id of `dimension = value` (hash `valueHash`), created when new; `value` is only
    /// called for a new series.
    public mutating func id(dimension: String, dimensionHash: UInt64, valueHash: UInt64, value: () -> String) -> (id: Int32, created: Bool) {
        let k = SeriesCatalog.key(dimensionHash, valueHash)
        if let id = ids.value(for: k) { return (Int32(id), false) }
        if perDimension[dimension, default: 0] >= cap {
            let ok = SeriesCatalog.key(dimension, DimensionGroups.otherName)
            if let id = ids.value(for: ok) { return (Int32(id), false) }
            return (insert(Entry(dimension: dimension, value: DimensionGroups.otherName), key: ok), true)
        }
        perDimension[dimension, default: 0] += 1
        return (insert(Entry(dimension: dimension, value: value()), key: k), true)
    }

    /// Restores a stored series under its id.
    public mutating func restore(id: Int32, _ entry: Entry) {
        while entries.count <= Int(id) { entries.append(Entry(dimension: "", value: "")) }
        entries[Int(id)] = entry
        let (slot, _) = ids.slot(for: SeriesCatalog.key(entry.dimension, entry.value), initial: Int64(id))
        ids[slot: slot] = Int64(id)
        if entry.value != DimensionGroups.otherName { perDimension[entry.dimension, default: 0] += 1 }
    }

    mutating func insert(_ e: Entry, key: UInt64) -> Int32 {
        let id = Int32(entries.count)
        entries.append(e)
        _ = ids.slot(for: key, initial: Int64(id))
        return id
    }

    public var count: Int { entries.count }
}
