import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging

/// Checks API keys on requests. With no keys configured, everything is allowed (the server then
/// only binds to loopback). Keys come from `Authorization: Bearer`, `X-Pulseboard-Key`, or — for
/// read-only endpoints, since EventSource cannot set headers — the `key` query parameter.
public struct Authorizer: Sendable {
    public let keys: [APIKey]

    public init(keys: [APIKey]) { self.keys = keys }

    public var isEnabled: Bool { !keys.isEmpty }

    /// The key presented in `authorization`, `X-Pulseboard-Key` or (when allowed) the `key` query parameter.
    static func presentedSecret(authorization: String?, keyHeader: String?, queryKey: String?) -> String? {
        if let auth = authorization, auth.lowercased().hasPrefix("bearer ") {
            return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        return keyHeader ?? queryKey
    }

    /// Throws 401 unless `request` carries a key with `scope`.
    public func require(_ scope: APIKey.Scope, _ request: Request) throws(APIError) {
        try require(
            scope, authorization: request.headers[.authorization], keyHeader: request.headers[HTTPField.Name("X-Pulseboard-Key")!],
            queryKey: request.uri.queryParameters.get("key"))
    }

    /// `require(_:_:)` for a request head read by `PushRouter` (streams, live queries, ingest).
    func require(_ scope: APIKey.Scope, _ head: PushRequestHead) throws(APIError) {
        try require(scope, authorization: head.headers["authorization"], keyHeader: head.headers["x-pulseboard-key"], queryKey: head.queryValue("key"))
    }

    /// Throws 401/403 unless the presented key has `scope`. The `key` query parameter counts for
    /// `read` (EventSource, wallboards) and `ingest` (sendBeacon), never for an admin key: URLs
    /// end up in logs and browser history.
    public func require(_ scope: APIKey.Scope, authorization: String?, keyHeader: String?, queryKey: String?) throws(APIError) {
        guard isEnabled else { return }
        let headerSecret = Authorizer.presentedSecret(authorization: authorization, keyHeader: keyHeader, queryKey: nil)
        let fromQuery = headerSecret == nil && scope != .admin
        guard let secret = headerSecret ?? (fromQuery ? queryKey : nil) else { throw APIError.unauthorized(scope) }
        for key in keys where Authorizer.constantTimeEquals(key.secret, secret) {
            if fromQuery && key.scopes.contains(.admin) { throw APIError.unauthorized(scope) }
            if key.allows(scope) { return }
            throw APIError(.forbidden, code: "forbidden", "key '\(key.name)' lacks the '\(scope.rawValue)' scope")
        }
        throw APIError.unauthorized(scope)
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var diff = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
