import HTTPTypes
import NIOCore
import NIOWebSocket
import PulseboardCore
import PulseboardEngine

/// The two stream endpoints on raw NIO: `GET /api/stream/:dashboard` (SSE) and `GET /ws`
/// (WebSocket). Checks the request (key, dashboard, variables, resume point, stream cap),
/// then swaps the `PushRouter` for the transport handler; errors are JSON responses. One
/// instance serves every connection, which holds it by reference.
final class PushEndpoints: Sendable {
    let hub: Hub
    let store: DashboardStore
    let authorizer: Authorizer
    let telemetry: Telemetry
    let corsOrigins: Set<String>
    let maxConnections: Int
    /// Live queries answered on the event loop (nil: Hummingbird answers them).
    let queries: LiveQueryEndpoint?
    /// Small ingest batches answered on the event loop (nil: Hummingbird answers them all).
    let ingest: IngestEndpoint?
    /// Largest client WebSocket message accepted.
    static let maxMessageBytes = 64 * 1024

    init(
        hub: Hub, store: DashboardStore, authorizer: Authorizer, telemetry: Telemetry, corsOrigins: Set<String>, maxConnections: Int,
        queries: LiveQueryEndpoint? = nil, ingest: IngestEndpoint? = nil
    ) {
        self.hub = hub
        self.store = store
        self.authorizer = authorizer
        self.telemetry = telemetry
        self.corsOrigins = corsOrigins
        self.maxConnections = maxConnections
        self.queries = queries
        self.ingest = ingest
    }

    func open(_ head: PushRequestHead, context: ChannelHandlerContext, router: PushRouter) {
        do throws(APIError) {
            guard head.method == "GET" else {
                throw APIError(.methodNotAllowed, code: "method_not_allowed", "streams are opened with GET")
            }
            try authorizer.require(.read, head)
            if head.path == "/ws" {
                try openWebSocket(head, context: context, router: router)
            } else {
                try openSSE(head, context: context, router: router)
            }
        } catch {
            router.fail(context, error)
        }
    }

    /// CORS headers for an allowed `Origin`.
    func corsLines(_ head: PushRequestHead) -> String { PushEndpoints.corsLines(head, origins: corsOrigins) }

    /// CORS header lines for `head`'s `Origin` when `origins` allows it (or "").
    static func corsLines(_ head: PushRequestHead, origins: Set<String>) -> String {
        guard let origin = head.headers["origin"], origins.contains("*") || origins.contains(origin) else { return "" }
        return "Access-Control-Allow-Origin: \(origin)\r\nVary: Origin\r\n"
    }

    /// A whole JSON response answered on the event loop (live queries, ingest): the status line,
    /// `headerLines` (each ending in CR LF), CORS for `head`'s origin and `Connection: close`
    /// unless `keepAlive`.
    static func response(
        status: HTTPResponse.Status, json: [UInt8], headerLines: String, to head: PushRequestHead, origins: Set<String>, keepAlive: Bool
    ) -> ByteBuffer {
        var extra = headerLines
        let cors = corsLines(head, origins: origins)
        if !cors.isEmpty { extra += cors + "Access-Control-Expose-Headers: Retry-After\r\n" }
        if !keepAlive { extra += "Connection: close\r\n" }
        let line = "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: application/json\r\nContent-Length: \(json.count)\r\n"
        var out = ByteBuffer()
        out.reserveCapacity(line.utf8.count + extra.utf8.count + 2 + json.count)
        out.writeString(line)
        out.writeString(extra)
        out.writeStaticString("\r\n")
        out.writeBytes(json)
        return out
    }

    /// Bounds what the connection may have waiting to be written (`push.subscriber_buffer_bytes`):
    /// past it the channel turns unwritable and its deltas are coalesced.
    func boundWriteBuffer(_ context: ChannelHandlerContext) {
        let high = hub.configuration.subscriberBufferBytes
        try? context.channel.syncOptions?.setOption(ChannelOptions.writeBufferWaterMark, value: .init(low: high / 2, high: high))
    }

    func takeStreamSlot() throws(APIError) {
        guard hub.openStream() else {
            telemetry.streamsRefused.add(1)
            throw APIError(
                .serviceUnavailable, code: "too_many_streams",
                "the server holds its maximum of \(hub.configuration.maxStreams) streams (push.max_streams); retry later", retryAfterSeconds: 5)
        }
    }

    func openSSE(_ head: PushRequestHead, context: ChannelHandlerContext, router: PushRouter) throws(APIError) {
        let prefix = "/api/stream/"
        let id = String(head.path.dropFirst(prefix.count))
        let spec = try store.servedSpec(id)
        let since = try StreamController.since(lastEventId: head.headers["last-event-id"], query: head.queryValue("since"))
        var values: [String: String] = [:]
        for (k, v) in head.query where k != "key" && k != "since" { values[k] = v }
        let resolved: [String: String]
        do { resolved = try spec.resolve(values) } catch { throw APIError(.badRequest, code: "bad_variables", error.message) }
        try takeStreamSlot()
        let connection = SSEConnection(hub: hub, telemetry: telemetry, eventLoop: context.eventLoop)
        let subscribed: Hub.Subscribed
        do {
            subscribed = try hub.subscribe(spec: spec, variables: resolved, since: since, subscriber: connection)
        } catch {
            hub.closeStream()
            throw APIError(.serviceUnavailable, code: error.code, error.message, retryAfterSeconds: 5)
        }
        let responseHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
            + corsLines(head) + "Transfer-Encoding: chunked\r\n\r\n"
        var first = ByteBuffer(string: responseHead)
        first.writeImmutableBuffer(PushWire.sseRetry)
        boundWriteBuffer(context)
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(connection, position: .after(router))
            _ = context.pipeline.syncOperations.removeHandler(context: context)
        } catch {
            // Once added, the connection leaves the hub itself when the channel goes.
            if connection.context == nil {
                hub.unsubscribe(key: subscribed.key, subscriber: connection)
                hub.closeStream()
            }
            context.close(promise: nil)
            return
        }
        connection.start(key: subscribed.key, seq: subscribed.seq, head: first, initial: subscribed.initial)
    }

    func openWebSocket(_ head: PushRequestHead, context: ChannelHandlerContext, router: PushRouter) throws(APIError) {
        let handshake = try WebSocketHandshake(head)
        try takeStreamSlot()
        var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(handshake.accept)\r\n"
        if handshake.deflate {
            response += "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
        }
        response += "\r\n"
        let connection = WebSocketConnection(
            endpoints: self, eventLoop: context.eventLoop, encoding: handshake.deflate ? .webSocketDeflate : .webSocket)
        boundWriteBuffer(context)
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(connection, position: .after(router))
            _ = context.pipeline.syncOperations.removeHandler(context: context)
        } catch {
            if connection.context == nil { hub.closeStream() }
            context.close(promise: nil)
            return
        }
        connection.start(response: ByteBuffer(string: response))
    }
}
