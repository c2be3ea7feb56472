import Foundation

/// A reference to a JSON string inside the request body: byte range, stable hash of its decoded
/// value, and whether it held escapes. Lets the hot path identify values without allocating.
public struct StringRef: Sendable, Equatable {
    public var start: Int32
    public var length: Int32
    public var hash: UInt64
    public var hasEscapes: Bool

    public static let none = StringRef(start: 0, length: 0, hash: 0, hasEscapes: false)
    public var isNone: Bool { hash == 0 && length == 0 }
}

/// A syntax error at a byte offset.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String
}

/// A strict, allocation-free JSON reader over a byte buffer, made for the event shape.
///
/// It walks the bytes once; strings come back as `StringRef`s (hashed, not copied), numbers as
/// `Double`, and anything not needed is skipped with its syntax still checked.
public struct JSONReader {
    public let bytes: UnsafeRawBufferPointer
    public var pos: Int
    let end: Int
    /// Maximum nesting depth for skipped values.
    static let maxDepth = 64

    public init(_ bytes: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.pos = start
        self.end = end ?? bytes.count
    }

    @inline(__always) public var atEnd: Bool { pos >= end }

    @inline(__always) public func peek() -> UInt8 {
        pos < end ? bytes[pos] : 0
    }

    @inline(__always) public mutating func skipWhitespace() {
        while pos < end {
            let c = bytes[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos &+= 1 } else { return }
        }
    }

    public func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: pos, message: message)
    }

    @inline(__always) public mutating func expect(_ c: UInt8) throws(JSONSyntaxError) {
        skipWhitespace()
        guard pos < end, bytes[pos] == c else {
            throw error("expected '\(Character(Unicode.Scalar(c)))'")
        }
        pos &+= 1
    }

    /// Consumes `c` if it is the next non-space byte.
    @inline(__always) public mutating func consume(_ c: UInt8) -> Bool {
        skipWhitespace()
        if pos < end, bytes[pos] == c { pos &+= 1; return true }
        return false
    }

    /// Reads a string without hashing it (`hash` is 0): for keys matched with `equals` and
    /// values such as timestamps that are parsed, not looked up.
    @inline(__always)
    public mutating func readUnhashedString() throws(JSONSyntaxError) -> StringRef {
        try readString(hashing: false)
    }

    /// Reads a string; the reader must be at its opening quote (after whitespace).
    @inline(__always)
    public mutating func readString() throws(JSONSyntaxError) -> StringRef {
        try readString(hashing: true)
    }

    @inline(__always)
    mutating func readString(hashing: Bool) throws(JSONSyntaxError) -> StringRef {
        skipWhitespace()
        guard pos < end, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string") }
        pos &+= 1
        let start = pos
        var escapes = false
        while pos < end {
            // Eight bytes at a time up to the first quote, backslash or control character.
            if pos &+ 8 <= end {
                let w = bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self)
                let stop = JSONReader.specialBytes(UInt64(littleEndian: w))
                if stop == 0 { pos &+= 8; continue }
                pos &+= stop.trailingZeroBitCount >> 3
            }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let length = pos - start
                pos &+= 1
                let hash: UInt64
                if !hashing {
                    hash = 0
                } else if escapes {
                    hash = StableHash.hash(JSONReader.unescape(bytes, start: start, length: length))
                } else {
                    hash = StableHash.hash(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
                }
                return StringRef(start: Int32(start), length: Int32(length), hash: hash, hasEscapes: escapes)
            } else if c == UInt8(ascii: "\\") {
                escapes = true
                pos &+= 1
                guard pos < end else { break }
                let e = bytes[pos]
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos &+= 1
                case UInt8(ascii: "u"):
                    guard pos + 4 < end else { throw error("truncated \\u escape") }
                    for k in 1...4 where JSONReader.hexValue(bytes[pos + k]) == nil {
                        throw error("bad \\u escape")
                    }
                    pos &+= 5
                default:
                    throw error("bad escape in string")
                }
            } else if c < 0x20 {
                throw error("control character in string")
            } else {
                pos &+= 1
            }
        }
        throw error("unterminated string")
    }

    /// A mask with the high bit set in the lowest byte of `w` that is a quote, a backslash or a
    /// control character (bytes above it may be flagged spuriously; that one is exact).
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22)
        let slash = w ^ (ones &* 0x5C)
        return ((quote &- ones) & ~quote | (slash &- ones) & ~slash | (w &- ones &* 0x20) & ~w) & highs
    }

    /// Reads a number as a `Double` (exact for integers up to 2^53 and short decimals).
    public mutating func readNumber() throws(JSONSyntaxError) -> Double {
        skipWhitespace()
        let start = pos
        var negative = false
        if pos < end, bytes[pos] == UInt8(ascii: "-") { negative = true; pos &+= 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exp10 = 0
        let intStart = pos
        while pos < end, bytes[pos] &- 48 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[pos] &- 48); digits &+= 1 } else { exp10 &+= 1 }
            pos &+= 1
        }
        if pos == intStart { throw error("expected a number") }
        if pos - intStart > 1, bytes[intStart] == UInt8(ascii: "0") { throw error("leading zero in number") }
        if pos < end, bytes[pos] == UInt8(ascii: ".") {
            pos &+= 1
            let fracStart = pos
            while pos < end, bytes[pos] &- 48 < 10 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[pos] &- 48); digits &+= 1; exp10 &-= 1 }
                pos &+= 1
            }
            if pos == fracStart { throw error("expected digits after '.'") }
        }
        var slow = false
        if pos < end, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            pos &+= 1
            if pos < end, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos &+= 1 }
            let expStart = pos
            while pos < end, bytes[pos] &- 48 < 10 { pos &+= 1 }
            if pos == expStart { throw error("expected digits in exponent") }
            slow = true
        }
        if !slow, digits <= 15, exp10 >= -22, exp10 <= 22 {
            // Clinger's fast path: both operands exact, one correctly rounded operation.
            var v = Double(mantissa)
            if exp10 < 0 { v /= JSONReader.pow10[-exp10] } else if exp10 > 0 { v *= JSONReader.pow10[exp10] }
            return negative ? -v : v
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let v = Double(text) else { throw JSONSyntaxError(offset: start, message: "bad number") }
        return v
    }

    static let pow10: [Double] = (0...22).map { e in
        var v = 1.0
        for _ in 0..<e { v *= 10 }
        return v
    }

    /// Reads `true` or `false`.
    public mutating func readBool() throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected a boolean")
    }

    /// Consumes `null` if present.
    public mutating func readNull() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= end else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[pos + i] != p[i] { return false }
        pos &+= n
        return true
    }

    /// The kind of the next value, judged by its first byte.
    public enum Kind { case string, number, bool, null, object, array, invalid }

    public mutating func nextKind() -> Kind {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        default: return .invalid
        }
    }

    /// Skips one value of any kind, checking its syntax.
    public mutating func skipValue(depth: Int = 0) throws(JSONSyntaxError) {
        guard depth < JSONReader.maxDepth else { throw error("nesting too deep") }
        switch nextKind() {
        case .string: _ = try readString()
        case .number: _ = try readNumber()
        case .bool: _ = try readBool()
        case .null:
            guard readNull() else { throw error("unexpected character") }
        case .object:
            pos &+= 1
            if consume(UInt8(ascii: "}")) { return }
            repeat {
                _ = try readString()
                try expect(UInt8(ascii: ":"))
                try skipValue(depth: depth + 1)
            } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "}"))
        case .array:
            pos &+= 1
            if consume(UInt8(ascii: "]")) { return }
            repeat { try skipValue(depth: depth + 1) } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
        case .invalid:
            throw error(atEnd ? "unexpected end of input" : "unexpected character")
        }
    }

    /// Whether the bytes of `ref` equal `literal` (for keys without escapes).
    @inline(__always)
    public func equals(_ ref: StringRef, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard !ref.hasEscapes, Int(ref.length) == n else { return false }
        let p = literal.utf8Start
        let s = Int(ref.start)
        for i in 0..<n where bytes[s + i] != p[i] { return false }
        return true
    }

    /// Decodes the string `ref` into a Swift `String` (allocates; for first sightings only).
    public func string(_ ref: StringRef) -> String {
        JSONReader.string(ref, in: bytes)
    }

    /// Decodes the string `ref` found in `bytes`.
    public static func string(_ ref: StringRef, in bytes: UnsafeRawBufferPointer) -> String {
        if ref.hasEscapes {
            return String(decoding: unescape(bytes, start: Int(ref.start), length: Int(ref.length)), as: UTF8.self)
        }
        let s = Int(ref.start)
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[s..<(s + Int(ref.length))]), as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - 48)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - 87)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - 55)
        default: nil
        }
    }

    /// Decodes escapes of an already-validated string body into UTF-8 bytes.
    static func unescape(_ bytes: UnsafeRawBufferPointer, start: Int, length: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        var i = start
        let end = start + length
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 4 | (hexValue(bytes[at + k]) ?? 0) }
            return v
        }
        while i < end {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else { out.append(c); i += 1; continue }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if scalar >= 0xD800, scalar < 0xDC00, i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(i + 2)
                    if low >= 0xDC00, low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let us = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(us).utf8))
            default: out.append(e)
            }
        }
        return out
    }
}
