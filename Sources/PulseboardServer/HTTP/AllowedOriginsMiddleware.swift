import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging

/// CORS for the browser SDK: echoes allowed origins (`server.cors_allowed_origins`, `*` = any)
/// and answers preflight requests.
struct AllowedOriginsMiddleware<Context: RequestContext>: RouterMiddleware {
    let origins: Set<String>
    let anyOrigin: Bool

    init(origins: [String]) {
        self.origins = Set(origins)
        self.anyOrigin = origins.contains("*")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], anyOrigin || origins.contains(origin) else {
            return try await next(request, context)
        }
        if request.method == .options {
            var headers = corsHeaders(origin)
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE, OPTIONS"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Pulseboard-Key, Last-Event-ID"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        do {
            var response = try await next(request, context)
            for f in corsHeaders(origin) { response.headers.append(f) }
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            for f in corsHeaders(origin) { response.headers.append(f) }
            return response
        }
    }

    func corsHeaders(_ origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin", .accessControlExposeHeaders: "Retry-After"]
    }
}
