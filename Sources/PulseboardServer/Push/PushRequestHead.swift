import NIOCore

/// The head of a request for a stream, parsed from raw bytes by `PushRouter` (push
/// connections never go through an HTTP decoder: they are GETs with no body).
struct PushRequestHead: Sendable {
    var method: String
    var path: String
    /// `HTTP/1.1` or `HTTP/1.0`.
    var version: String
    /// Query parameters, percent-decoded, in order.
    var query: [(name: String, value: String)]
    /// Header values by lowercased name (repeated headers joined with ", ").
    var headers: [String: String]

    /// Parses `GET /path?query HTTP/1.1` and its header lines; nil when malformed (or not
    /// UTF-8). Byte by byte: on a keep-alive connection of live queries this runs per request.
    init?(_ bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard String(validating: b, as: UTF8.self) != nil else { return nil }
        let lineEnd = b.withUnsafeBytes { PushRequestHead.lineEnd(in: $0) } ?? b.count
        // The request line: exactly three parts separated by single spaces.
        guard let s1 = b[..<lineEnd].firstIndex(of: 0x20), let s2 = b[(s1 + 1)..<lineEnd].firstIndex(of: 0x20),
            b[(s2 + 1)..<lineEnd].firstIndex(of: 0x20) == nil, s1 > 0, s2 > s1 + 1
        else { return nil }
        let versionBytes = b[(s2 + 1)..<lineEnd]
        guard versionBytes.starts(with: PushRequestHead.http1) else { return nil }
        method = String(decoding: b[..<s1], as: UTF8.self)
        version = String(decoding: versionBytes, as: UTF8.self)
        let target = b[(s1 + 1)..<s2]
        let mark = target.firstIndex(of: UInt8(ascii: "?")) ?? target.endIndex
        path = PushRequestHead.percentDecoded(target[..<mark])
        query = []
        if mark < target.endIndex {
            for pair in target[(mark + 1)...].split(separator: UInt8(ascii: "&")) {
                let eq = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                let value = eq < pair.endIndex ? PushRequestHead.percentDecoded(pair[(eq + 1)...]) : ""
                query.append((PushRequestHead.percentDecoded(pair[..<eq]), value))
            }
        }
        headers = [:]
        var start = lineEnd + 2
        while start < b.count {
            let end = b.withUnsafeBytes { PushRequestHead.lineEnd(in: $0, from: start) } ?? b.count
            defer { start = end + 2 }
            guard end > start else { continue }
            guard let colon = b[start..<end].firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let name = String(decoding: b[start..<colon], as: UTF8.self).lowercased()
            let value = String(decoding: PushRequestHead.trimmed(b[(colon + 1)..<end]), as: UTF8.self)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
    }

    static let http1 = Array("HTTP/1.".utf8)

    /// The offset of the first CR LF at or after `from` (`blankLine`: CR LF CR LF, the end of a
    /// request head); nil when there is none yet.
    static func lineEnd(in p: UnsafeRawBufferPointer, from: Int = 0, blankLine: Bool = false) -> Int? {
        let width = blankLine ? 4 : 2
        var i = from
        while i + width <= p.count {
            if p[i] == 13 && p[i + 1] == 10 && (!blankLine || (p[i + 2] == 13 && p[i + 3] == 10)) { return i }
            i += 1
        }
        return nil
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes
        while let f = s.first, f == 0x20 || f == 0x09 { s.removeFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s.removeLast() }
        return s
    }

    /// `%XX` escapes decoded; the bytes as they are when an escape is malformed or the result
    /// is not UTF-8.
    static func percentDecoded(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "%")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.endIndex, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    return String(decoding: bytes, as: UTF8.self)
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self) ?? String(decoding: bytes, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Whether a body follows the head (`Content-Length` above 0 or `Transfer-Encoding`).
    var hasBody: Bool {
        headers["transfer-encoding"] != nil || (headers["content-length"].map { $0 != "0" } ?? false)
    }

    /// The first query parameter called `name`.
    func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Whether a request line (`METHOD TARGET VERSION`) asks for a stream.
    static func isStreamRequestLine(_ line: ByteBufferView) -> Bool {
        if line.starts(with: sse) { return true }
        guard line.starts(with: ws), line.count > ws.count else { return false }
        let next = line[line.index(line.startIndex, offsetBy: ws.count)]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "?")
    }

    static let sse = Array("GET /api/stream/".utf8)
    static let ws = Array("GET /ws".utf8)
}
