import Foundation
import HTTPTypes

/// The server side of the RFC 6455 opening handshake, and the permessage-deflate (RFC 7692)
/// negotiation: accepted when offered without a smaller server window, always answered with
/// `server_no_context_takeover` (one compressed frame serves every subscriber) and
/// `client_no_context_takeover` (no inflate window is kept per connection).
struct WebSocketHandshake: Sendable {
    /// `Sec-WebSocket-Accept`.
    var accept: String
    /// Whether permessage-deflate is on.
    var deflate: Bool

    init(_ head: PushRequestHead) throws(APIError) {
        guard head.headers["upgrade"]?.lowercased() == "websocket",
            head.headers["connection"]?.lowercased().contains("upgrade") == true
        else {
            throw APIError(.badRequest, code: "upgrade_required", "/ws is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket")
        }
        guard head.headers["sec-websocket-version"] == "13" else {
            throw APIError(.badRequest, code: "bad_websocket_version", "Sec-WebSocket-Version must be 13")
        }
        guard let key = head.headers["sec-websocket-key"], Data(base64Encoded: key)?.count == 16 else {
            throw APIError(.badRequest, code: "bad_websocket_key", "Sec-WebSocket-Key must be 16 random bytes in base64")
        }
        accept = WebSocketHandshake.acceptValue(key: key)
        deflate = WebSocketHandshake.acceptsDeflate(head.headers["sec-websocket-extensions"] ?? "")
    }

    /// base64(SHA-1(key + the RFC 6455 GUID)).
    static func acceptValue(key: String) -> String {
        Data(SHA1.hash(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }

    /// Whether one of the offers is a permessage-deflate the server can take.
    static func acceptsDeflate(_ header: String) -> Bool {
        for offer in header.split(separator: ",") {
            let params = offer.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard params.first == "permessage-deflate" else { continue }
            let windowOK = params.dropFirst().allSatisfy { p in
                !p.hasPrefix("server_max_window_bits") || p == "server_max_window_bits" || p.hasSuffix("=15")
            }
            if windowOK { return true }
        }
        return false
    }
}
