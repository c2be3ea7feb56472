/// A small streaming JSON writer into a byte array: responses and frames are written straight
/// to bytes, without `Encodable` boxing or intermediate dictionaries.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always) mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
    }

    public mutating func beginObject() { separator(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separator(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }

    /// Writes an object key; the next value call writes its value.
    public mutating func key(_ k: String) {
        separator()
        appendEscaped(k)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ s: String) { separator(); appendEscaped(s) }
    public mutating func bool(_ b: Bool) { separator(); bytes.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8)) }
    public mutating func null() { separator(); bytes.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
    public mutating func int(_ v: Int) { separator(); bytes.append(contentsOf: Array(String(v).utf8)) }
    public mutating func int64(_ v: Int64) { separator(); bytes.append(contentsOf: Array(String(v).utf8)) }

    /// Writes a number exactly (shortest round-trip form; integral values without a fraction);
    /// NaN and infinities (not JSON) as null. Round values for display with `rounded` first.
    public mutating func number(_ v: Double) {
        guard v.isFinite else { null(); return }
        separator()
        if v == v.rounded(), abs(v) < 1e15 {
            bytes.append(contentsOf: Array(String(Int64(v)).utf8))
        } else {
            bytes.append(contentsOf: Array(String(v).utf8))
        }
    }

    /// Writes an optional number (nil as null).
    public mutating func number(_ v: Double?) {
        if let v { number(v) } else { null() }
    }

    /// Writes pre-encoded JSON as a value.
    public mutating func raw(_ json: [UInt8]) { separator(); bytes.append(contentsOf: json) }

    /// The display precision of metric values: 2 decimals from 100 up, 4 from 1, else 6.
    /// Frames hold rounded values, so what is diffed is exactly what clients receive, and noise
    /// below the shown precision never makes a delta.
    public static func rounded(_ v: Double) -> Double {
        guard v.isFinite, v != v.rounded() else { return v }
        let magnitude = abs(v)
        let scale: Double = magnitude >= 100 ? 100 : magnitude >= 1 ? 10_000 : 1_000_000
        return (v * scale).rounded() / scale
    }

    mutating func appendEscaped(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
            case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension QueryResult {
    /// The JSON answer of `GET /api/metrics/query` (protocol.md, Metrics).
    public func writeJSON(into w: inout JSONWriter) {
        w.beginObject()
        w.key("metric"); w.string(query.metric.rawValue)
        if query.metric.aggregations.count > 1 { w.key("agg"); w.string(query.aggregation) }
        w.key("window"); w.string(WindowSpec.format(query.windowSeconds))
        w.key("unit"); w.string(query.metric.unit)
        if let f = query.filter { w.key("filter"); w.string(f.key + ":" + f.value) }
        if let g = query.groupBy { w.key("group_by"); w.string(g) }
        w.key("value"); w.number(value.map(JSONWriter.rounded))
        w.key("n"); w.int(sampleSize)
        if let series {
            w.key("bucket_seconds"); w.int(bucketSeconds)
            w.key("series")
            w.beginObject()
            for p in series {
                w.key(String(p.start))
                w.number(p.value.map(JSONWriter.rounded))
            }
            w.endObject()
        }
        if let groups {
            w.key("groups")
            w.beginObject()
            for g in groups {
                w.key(g.name)
                w.number(g.value.map(JSONWriter.rounded))
            }
            w.endObject()
        }
        w.endObject()
    }
}
