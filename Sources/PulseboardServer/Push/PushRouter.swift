import HTTPTypes
import NIOCore
import PulseboardEngine

/// The first handler of every connection. It reads the request line: a stream request
/// (`GET /api/stream/…`, `GET /ws`) stays in NIO and gets a lean transport handler; live
/// queries (`GET /api/metrics/query`) are answered here, request after request on a keep-alive
/// connection; anything else is handed to Hummingbird with the bytes read so far (for the rest
/// of the connection). Over `server.max_connections` it answers 503 once the request head is in.
final class PushRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Route: Equatable, Sendable {
        /// Hummingbird serves the connection.
        case http
        /// The router answered it, or a push transport holds it.
        case push
        /// A live query is being read; the router answers it and reads the next request.
        case query
    }

    /// Longest request head accepted on a stream request.
    static let maxHeadBytes = 16 * 1024

    let endpoints: PushEndpoints
    let refuse: Bool
    /// Installs Hummingbird's handlers behind the router (on the loop), when the request is not a stream.
    let handOver: (ChannelHandlerContext) -> Void
    var buffer = ByteBuffer()
    var route: Route?

    init(endpoints: PushEndpoints, refuse: Bool, handOver: @escaping (ChannelHandlerContext) -> Void) {
        self.endpoints = endpoints
        self.refuse = refuse
        self.handOver = handOver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer.writeBuffer(&bytes)
        // Requests pipelined behind a live query are read in turn.
        while readRequest(context) {}
    }

    /// Reads what the buffer holds of the current request; true when a live query was answered
    /// and the next request may already be in the buffer.
    func readRequest(_ context: ChannelHandlerContext) -> Bool {
        switch route {
        case .http?: return false  // waiting to be removed; the bytes go to Hummingbird then
        case .push?, .query?: break
        case nil:
            guard let lineEnd = buffer.withUnsafeReadableBytes({ PushRequestHead.lineEnd(in: $0) }) else {
                if buffer.readableBytes > PushRouter.maxHeadBytes { fail(context, .init(.badRequest, code: "bad_request", "request line too long")) }
                return false
            }
            let line = buffer.readableBytesView.prefix(lineEnd)
            if !refuse && endpoints.queries != nil && LiveQueryEndpoint.isQueryRequestLine(line) {
                route = .query
            } else if !refuse && !PushRequestHead.isStreamRequestLine(line) {
                route = .http
                handOver(context)
                return false
            } else {
                route = .push
            }
        }
        guard let headEnd = buffer.withUnsafeReadableBytes({ PushRequestHead.lineEnd(in: $0, blankLine: true) }) else {
            if buffer.readableBytes > PushRouter.maxHeadBytes {
                fail(context, .init(.requestHeaderFieldsTooLarge, code: "headers_too_large", "request head over \(PushRouter.maxHeadBytes) bytes"))
            }
            return false
        }
        let head = PushRequestHead(buffer.readableBytesView.prefix(headEnd))
        if route == .query, let queries = endpoints.queries {
            // A GET with a body is unusual enough to leave to Hummingbird's full HTTP handling.
            guard let head, !head.hasBody else {
                route = .http
                handOver(context)
                return false
            }
            buffer.moveReaderIndex(forwardBy: headEnd + 4)
            let keepAlive = LiveQueryEndpoint.keepsAlive(head)
            let response = queries.respond(head, keepAlive: keepAlive)
            guard keepAlive else {
                route = .push
                buffer.clear()
                context.writeAndFlush(wrapInboundOut(response), promise: nil)
                context.close(mode: .output, promise: nil)
                return false
            }
            // Flushed in channelReadComplete, once per read burst however many were pipelined.
            route = nil
            context.write(wrapInboundOut(response), promise: nil)
            guard buffer.readableBytes > 0 else {
                buffer.clear()
                return false
            }
            return true
        }
        buffer.moveReaderIndex(forwardBy: headEnd + 4)
        if refuse {
            endpoints.telemetry.connectionsRefused.add(1)
            fail(context, .init(
                .serviceUnavailable, code: "too_many_connections",
                "the server holds its maximum of \(endpoints.maxConnections) connections (server.max_connections); retry later",
                retryAfterSeconds: 5))
            return false
        }
        guard let head else {
            fail(context, .init(.badRequest, code: "bad_request", "malformed request head"))
            return false
        }
        endpoints.open(head, context: context, router: self)
        return false
    }

    /// Answers with `error` and closes.
    func fail(_ context: ChannelHandlerContext, _ error: APIError) {
        route = .push
        buffer.clear()
        context.writeAndFlush(wrapInboundOut(error.rawResponse), promise: nil)
        context.close(mode: .output, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Flushes responses written for pipelined queries once the read burst is over.
    func channelReadComplete(context: ChannelHandlerContext) {
        if route == nil || route == .query { context.flush() }
        context.fireChannelReadComplete()
    }

    /// Graceful shutdown: a connection that has not finished its request head yet is closed
    /// (once handed over, Hummingbird's handlers answer this event themselves).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Between live queries the connection is idle: closing it loses nothing.
        if event is ChannelShouldQuiesceEvent, route != .http {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        if buffer.readableBytes > 0 {
            let rest = buffer
            buffer = ByteBuffer()
            context.fireChannelRead(wrapInboundOut(rest))
        }
        context.leavePipeline(removalToken: removalToken)
    }
}
