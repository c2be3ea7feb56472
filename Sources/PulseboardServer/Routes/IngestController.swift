import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine

/// `POST /api/analytics/events`: JSON batches and NDJSON, per-event rejections, 400/401/413/429/503.
struct IngestController<Context: RequestContext>: Sendable {
    let ingestor: Ingestor
    let authorizer: Authorizer
    let maxBodyBytes: Int
    let durable: Bool

    func addRoutes(to router: Router<Context>) {
        router.post("/api/analytics/events") { request, context in try await self.ingest(request, context: context) }
        router.on("/api/analytics/events", method: .options) { _, _ in Response(status: .noContent) }
    }

    func ingest(_ request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        try authorizer.require(.ingest, request)
        let format = try IngestController.format(of: request)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            ingestor.telemetry.batchesRefused.add(1)
            throw APIError(.contentTooLarge, code: "body_too_large", "request body of \(length) bytes exceeds \(maxBodyBytes) (ingest.max_body_bytes)")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            ingestor.telemetry.batchesRefused.add(1)
            throw APIError(.contentTooLarge, code: "body_too_large", "request body exceeds \(maxBodyBytes) bytes (ingest.max_body_bytes)")
        }
        let result: Result<IngestOutcome, IngestError> = body.withUnsafeReadableBytes { bytes in
            Result { () throws(IngestError) in try ingestor.ingest(bytes, format: format) }
        }
        let outcome: IngestOutcome
        switch result {
        case .success(let o): outcome = o
        case .failure(let error):
            ingestor.telemetry.batchesRefused.add(1)
            throw IngestController.apiError(error)
        }
        if durable, let position = outcome.journalPosition {
            do {
                try await ingestor.journal.waitDurable(position)
            } catch {
                throw APIError(.serviceUnavailable, code: "journal_unavailable", "events were written but could not be made durable: \(error)", retryAfterSeconds: 5)
            }
        }
        ingestor.telemetry.batches.add(1)
        let elapsed = ContinuousClock.now - started
        ingestor.telemetry.ingestLatency.observe(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
        return .json(IngestController.encode(outcome))
    }

    static func format(of request: Request) throws(APIError) -> EventDecoder.Format {
        guard let type = request.headers[.contentType]?.lowercased() else { return .json }
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
