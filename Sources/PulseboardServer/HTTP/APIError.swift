import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore

/// An error answered as JSON: `{"error": {"code": "...", "message": "..."}}` with its HTTP status
/// (and `Retry-After` for 429/503). The one place errors become HTTP responses.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var retryAfterSeconds: Int?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    /// `{"error": {"code": …, "message": …}}`
    var jsonBody: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("error")
        w.beginObject()
        w.key("code"); w.string(code)
        w.key("message"); w.string(message)
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// The whole HTTP/1.1 response, for transports that write raw bytes; it closes the connection.
    var rawResponse: ByteBuffer {
        let body = jsonBody
        let head = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            + rawHeaderLines + "\r\n"
        var out = ByteBuffer(string: head)
        out.writeBytes(body)
        return out
    }

    /// The error's own header lines (`Retry-After`, `WWW-Authenticate`), each ending in CRLF.
    var rawHeaderLines: String {
        var lines = ""
        if let retryAfterSeconds { lines += "Retry-After: \(retryAfterSeconds)\r\n" }
        if status == .unauthorized { lines += "WWW-Authenticate: Bearer\r\n" }
        return lines
    }

    static func unauthorized(_ scope: APIKey.Scope) -> APIError {
        APIError(.unauthorized, code: "unauthorized", "a key with the '\(scope.rawValue)' scope is required: send Authorization: Bearer <key> or X-Pulseboard-Key")
    }
}

/// Turns anything that is not already an HTTP error into a JSON 500 without internals, and
/// logs it.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "body_too_large", "request body is larger than allowed (ingest.max_body_bytes)")
        } catch let error as HTTPError {
            throw APIError(error.status, code: "http_\(error.status.code)", error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(.internalServerError, code: "internal", "internal server error")
        }
    }
}

extension Response {
    /// A JSON response from bytes written with `JSONWriter`.
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
