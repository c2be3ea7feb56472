import HTTPTypes
import NIOCore
import PulseboardCore
import PulseboardEngine

/// `POST /api/analytics/events` answered on the connection's event loop by `PushRouter` when the
/// body is small and plainly framed (`Content-Length` up to `maxBodyBytes`): ingest is the hot
/// write path and a Hummingbird task per batch cost two thread hops and a fifth of its CPU.
/// Anything else (chunked or larger bodies, the durable write policy, which waits for an fsync)
/// goes to `IngestController`; both answer alike.
struct IngestEndpoint: Sendable {
    let ingestor: Ingestor
    let authorizer: Authorizer
    let corsOrigins: Set<String>
    /// Largest body decoded on the event loop: bigger batches would hold the loop's other
    /// connections (streams among them) for milliseconds, so they go to a task.
    let maxBodyBytes: Int

    /// The default `maxBodyBytes`: a batch of about a thousand events, under 2 ms to ingest.
    static let loopBodyLimit = 256 * 1024

    static let requestLinePrefix = Array("POST /api/analytics/events".utf8)

    /// Whether a request line is an ingest POST (`/api/analytics/events` or `…?…`).
    static func isIngestRequestLine(_ line: ByteBufferView) -> Bool {
        guard line.starts(with: requestLinePrefix), line.count > requestLinePrefix.count else { return false }
        let next = line[line.index(line.startIndex, offsetBy: requestLinePrefix.count)]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "?")
    }

    /// The body length when this endpoint takes the request; nil hands it to Hummingbird.
    func bodyLength(_ head: PushRequestHead) -> Int? {
        guard head.headers["transfer-encoding"] == nil, head.headers["expect"].map(IngestEndpoint.isContinue) ?? true,
            let text = head.headers["content-length"], !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let length = Int(text), length <= maxBodyBytes
        else { return nil }
        return length
    }

    /// Whether an `Expect` value is `100-continue` (HTTP clients send it before a body and wait
    /// a moment for the interim answer; any other expectation goes to Hummingbird).
    static func isContinue(_ expect: String) -> Bool { expect.lowercased() == "100-continue" }

    static let continueResponse = ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")

    /// The whole response to one request and its body.
    func respond(_ head: PushRequestHead, body: UnsafeRawBufferPointer, keepAlive: Bool) -> ByteBuffer {
        let started = ContinuousClock.now
        var status = HTTPResponse.Status.ok
        var json: [UInt8]
        var extra = ""
        do throws(APIError) {
            try authorizer.require(.ingest, head)
            let format = try IngestEndpoint.format(contentType: head.headers["content-type"])
            let outcome: IngestOutcome
            do {
                outcome = try ingestor.ingest(body, format: format)
            } catch {
                throw IngestEndpoint.apiError(error)
            }
            json = IngestEndpoint.encode(outcome)
            ingestor.telemetry.batches.add(1)
            ingestor.telemetry.observeIngest(since: started)
        } catch {
            ingestor.telemetry.batchesRefused.add(1)
            status = error.status
            json = error.jsonBody
            extra += error.rawHeaderLines
        }
        return PushEndpoints.response(status: status, json: json, headerLines: extra, to: head, origins: corsOrigins, keepAlive: keepAlive)
    }

    /// The body format a `Content-Type` names (none: a JSON batch).
    static func format(contentType: String?) throws(APIError) -> EventDecoder.Format {
        guard let type = contentType?.lowercased() else { return .json }
        if type.contains("ndjson") || type.contains("jsonl") || type.contains("jsonlines") { return .ndjson }
        if type.hasPrefix("application/json") || type.hasPrefix("text/plain") { return .json }
        throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "Content-Type must be application/json (a {\"events\": [...]} batch) or application/x-ndjson (one event per line)")
    }

    static func apiError(_ e: IngestError) -> APIError {
        switch e.code {
        case .invalidBatch: APIError(.badRequest, code: "invalid_batch", e.message)
        case .tooManyEvents: APIError(.contentTooLarge, code: "too_many_events", e.message)
        case .rateLimited: APIError(.tooManyRequests, code: "rate_limited", e.message, retryAfterSeconds: e.retryAfterSeconds)
        case .notReady: APIError(.serviceUnavailable, code: "not_ready", e.message, retryAfterSeconds: e.retryAfterSeconds)
        case .journalFailure: APIError(.serviceUnavailable, code: "journal_unavailable", e.message, retryAfterSeconds: e.retryAfterSeconds)
        }
    }

    static func encode(_ o: IngestOutcome) -> [UInt8] {
        var w = JSONWriter(capacity: 64 + o.rejected.count * 80)
        w.beginObject()
        w.key("accepted"); w.int(o.accepted)
        w.key("duplicates"); w.int(o.duplicates)
        w.key("rejected")
        w.beginArray()
        for r in o.rejected {
            w.beginObject()
            w.key("index"); w.int(r.index)
            w.key("field"); w.string(r.field)
            w.key("reason"); w.string(r.reason)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
