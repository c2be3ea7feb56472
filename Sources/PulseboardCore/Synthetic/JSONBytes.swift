/// Appending JSON text to a byte buffer without building intermediate strings or arrays: what
/// the synthetic generators write their events with.
extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of `s`.
    @inline(__always)
    mutating func appendUTF8(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends `"key":"value"`, preceded by a comma unless `first` (no escaping: generator values are plain).
    mutating func appendJSONField(_ key: String, _ value: String, first: Bool = false) {
        if !first { append(UInt8(ascii: ",")) }
        append(UInt8(ascii: "\""))
        appendUTF8(key)
        appendUTF8("\":\"")
        appendUTF8(value)
        append(UInt8(ascii: "\""))
    }

    /// Appends `,"key":raw` (a number or boolean written as is).
    mutating func appendJSONRaw(_ key: String, _ raw: String) {
        appendUTF8(",\"")
        appendUTF8(key)
        appendUTF8("\":")
        appendUTF8(raw)
    }
}
