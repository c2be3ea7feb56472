import HTTPTypes
import NIOCore
import PulseboardEngine

/// The first handler of every connection. It reads the request line: a stream request
/// (`GET /api/stream/…`, `GET /ws`) stays in NIO and gets a lean transport handler; anything
/// else is handed to Hummingbird with the bytes read so far. Over `server.max_connections` it
/// answers 503 once the request head is in.
final class PushRouter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Route: Equatable, Sendable {
        /// Hummingbird serves the connection.
        case http
        /// The router answered it, or a push transport holds it.
        case push
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
        switch route {
        case .http?: return  // waiting to be removed; the bytes go to Hummingbird then
        case .push?: break
        case nil:
            guard let lineEnd = buffer.readableBytesView.firstRange(of: [13, 10]) else {
                if buffer.readableBytes > PushRouter.maxHeadBytes { fail(context, .init(.badRequest, code: "bad_request", "request line too long")) }
                return
            }
            let line = buffer.readableBytesView[buffer.readableBytesView.startIndex..<lineEnd.lowerBound]
            if !refuse && !PushRequestHead.isStreamRequestLine(ByteBufferView(line)) {
                route = .http
                handOver(context)
                return
            }
            route = .push
        }
        guard let headEnd = buffer.readableBytesView.firstRange(of: [13, 10, 13, 10]) else {
            if buffer.readableBytes > PushRouter.maxHeadBytes {
                fail(context, .init(.requestHeaderFieldsTooLarge, code: "headers_too_large", "request head over \(PushRouter.maxHeadBytes) bytes"))
            }
            return
        }
        let view = buffer.readableBytesView
        let head = PushRequestHead(view[view.startIndex..<headEnd.lowerBound])
        buffer.moveReaderIndex(to: headEnd.upperBound)
        if refuse {
            endpoints.telemetry.connectionsRefused.add(1)
            fail(context, .init(
                .serviceUnavailable, code: "too_many_connections",
                "the server holds its maximum of \(endpoints.maxConnections) connections (server.max_connections); retry later",
                retryAfterSeconds: 5))
            return
        }
        guard let head else {
            fail(context, .init(.badRequest, code: "bad_request", "malformed request head"))
            return
        }
        endpoints.open(head, context: context, router: self)
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

    /// Graceful shutdown: a connection that has not finished its request head yet is closed
    /// (once handed over, Hummingbird's handlers answer this event themselves).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
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
