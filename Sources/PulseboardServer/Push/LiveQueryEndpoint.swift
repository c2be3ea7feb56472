import HTTPTypes
import NIOCore
import PulseboardCore
import PulseboardEngine

/// `GET /api/metrics/query` answered on the connection's event loop by `PushRouter`, without
/// Hummingbird's task per request: live queries are the hot read path (pollers, wallboards,
/// scripts), and the two thread hops a task costs were most of their latency. Same parameters,
/// answers and errors as `MetricsController.query`, which calls its `answer`.
struct LiveQueryEndpoint: Sendable {
    let ingestor: Ingestor
    let authorizer: Authorizer
    let corsOrigins: Set<String>

    /// Whether a request line asks for a live query (`GET /api/metrics/query` or `…?…`).
    static func isQueryRequestLine(_ line: ByteBufferView) -> Bool {
        guard line.starts(with: requestLinePrefix), line.count > requestLinePrefix.count else { return false }
        let next = line[line.index(line.startIndex, offsetBy: requestLinePrefix.count)]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "?")
    }

    static let requestLinePrefix = Array("GET /api/metrics/query".utf8)

    /// Whether the connection stays open after answering `head` (HTTP/1.1 unless `close`;
    /// HTTP/1.0 only with `keep-alive`).
    static func keepsAlive(_ head: PushRequestHead) -> Bool {
        // `Connection` is a comma-separated list of tokens, case-insensitive.
        let tokens = (head.headers["connection"] ?? "").lowercased().split(separator: ",").map {
            $0.filter { $0 != " " && $0 != "\t" }
        }
        if head.version == "HTTP/1.0" { return tokens.contains("keep-alive") }
        return !tokens.contains("close")
    }

    /// The JSON answer to a live query given its (percent-decoded) parameters: shared with
    /// `MetricsController`, so both routes answer alike.
    static func answer(_ params: [(name: String, value: String)], ingestor: Ingestor) throws(APIError) -> [UInt8] {
        if params.lazy.filter({ $0.name == "filter" }).count > 1 {
            throw APIError(.badRequest, code: "bad_filter", "only one filter=key:value is supported per query")
        }
        var dict: [String: String] = [:]
        for (k, v) in params { dict[k] = v }
        let result: QueryResult
        do {
            let q = try MetricQuery.parse(dict)
            result = try ingestor.query(q)
        } catch {
            throw APIError(.badRequest, code: error.code.rawValue, error.message)
        }
        var w = JSONWriter(capacity: 1024 + (result.series?.count ?? 0) * 24)
        result.writeJSON(into: &w)
        return w.bytes
    }

    /// The whole response to one request head.
    func respond(_ head: PushRequestHead, keepAlive: Bool) -> ByteBuffer {
        var status = HTTPResponse.Status.ok
        var body: [UInt8]
        var extra = ""
        do throws(APIError) {
            try authorizer.require(.read, head)
            body = try LiveQueryEndpoint.answer(head.query, ingestor: ingestor)
        } catch {
            status = error.status
            body = error.jsonBody
            extra += error.rawHeaderLines
        }
        return PushEndpoints.response(status: status, json: body, headerLines: extra, to: head, origins: corsOrigins, keepAlive: keepAlive)
    }
}
