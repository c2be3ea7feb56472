import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine

/// `POST /api/analytics/events`: JSON batches and NDJSON, per-event rejections, 400/401/403/413/415/429/503.
/// Small plainly framed batches are answered on the event loop by `IngestEndpoint`; this route
/// takes the rest (chunked or large bodies, the durable write policy).
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
        let outcome: IngestOutcome
        do {
            outcome = try await accept(request)
        } catch {
            ingestor.telemetry.batchesRefused.add(1)
            throw error
        }
        ingestor.telemetry.batches.add(1)
        ingestor.telemetry.observeIngest(since: started)
        return .json(IngestEndpoint.encode(outcome))
    }

    /// Checks, reads and ingests one request; throws the `APIError` that refuses it as a whole.
    func accept(_ request: Request) async throws -> IngestOutcome {
        try authorizer.require(.ingest, request)
        let format = try IngestEndpoint.format(contentType: request.headers[.contentType])
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw APIError(.contentTooLarge, code: "body_too_large", "request body of \(length) bytes exceeds \(maxBodyBytes) (ingest.max_body_bytes)")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", "request body exceeds \(maxBodyBytes) bytes (ingest.max_body_bytes)")
        }
        let result: Result<IngestOutcome, IngestError> = body.withUnsafeReadableBytes { bytes in
            Result { () throws(IngestError) in try ingestor.ingest(bytes, format: format) }
        }
        let outcome = try result.mapError(IngestEndpoint.apiError).get()
        if durable, let position = outcome.journalPosition {
            do {
                try await ingestor.journal.waitDurable(position)
            } catch {
                throw APIError(.serviceUnavailable, code: "journal_unavailable", "events were written but could not be made durable: \(error)", retryAfterSeconds: 5)
            }
        }
        return outcome
    }
}
