import Foundation
import HummingbirdCore
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

    /// Parses `GET /path?query HTTP/1.1` and its header lines; nil when malformed.
    init?(_ bytes: some Collection<UInt8>) {
        guard let text = String(bytes: bytes, encoding: .utf8) else { return nil }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let requestLine = lines.popFirst() else { return nil }
        let parts = requestLine.split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        method = String(parts[0])
        version = String(parts[2])
        let uri = URI(String(parts[1]))
        path = uri.path.removingPercentEncoding ?? uri.path
        query = uri.queryParameters.map { (String($0.key), String($0.value).removingPercentEncoding ?? String($0.value)) }
        headers = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
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
        let sse = Array("GET /api/stream/".utf8)
        let ws = Array("GET /ws".utf8)
        if line.starts(with: sse) { return true }
        guard line.starts(with: ws), line.count > ws.count else { return false }
        let next = line[line.index(line.startIndex, offsetBy: ws.count)]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "?")
    }
}
