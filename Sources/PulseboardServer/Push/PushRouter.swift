import HTTPTypes
import NIOCore
import PulseboardEngine

/// The first handler of every connection. It reads the request line: a stream request
/// (`GET /api/stream/…`, `GET /ws`) stays in NIO and gets a lean transport handler; live
/// queries (`GET /api/metrics/query`) and small ingest batches (`POST /api/analytics/events`)
/// are answered here, request after request on a keep-alive connection; anything else is
/// handed to Hummingbird with the bytes read so far (for the rest of the connection). Over
/// `server.max_connections` it answers 503 once the request head is in.
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
        /// An ingest batch is being read; the router answers it and reads the next request.
        case ingest
    }

    /// An ingest request whose head is in and whose body is being read.
    struct PendingIngest {
        var head: PushRequestHead
        /// Offset of the body from the buffer's reader index.
        var bodyStart: Int
        var length: Int
    }

    /// Longest request head accepted on a stream request.
    static let maxHeadBytes = 16 * 1024

    let endpoints: PushEndpoints
    let refuse: Bool
    /// Installs Hummingbird's handlers behind the router (on the loop), when the request is not a stream.
    let handOver: (ChannelHandlerContext) -> Void
    /// Tells Hummingbird the connection will never be its own (a stream, or closing), so the
    /// task it keeps per connection ends instead of waiting for the close.
    let settle: () -> Void
    var buffer = ByteBuffer()
    var route: Route? {
        didSet { if route == .push { settle() } }
    }
    var pendingIngest: PendingIngest?
    /// Set by graceful shutdown while an ingest body is arriving: close once it is answered.
    var closeAfterResponse = false

    init(endpoints: PushEndpoints, refuse: Bool, settle: @escaping () -> Void, handOver: @escaping (ChannelHandlerContext) -> Void) {
        self.endpoints = endpoints
        self.refuse = refuse
        self.handOver = handOver
        self.settle = settle
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
        case .ingest?:
            if let pending = pendingIngest { return answer(pending, context) }
        case .push?, .query?: break
        case nil:
            guard let lineEnd = buffer.withUnsafeReadableBytes({ PushRequestHead.lineEnd(in: $0) }) else {
                if buffer.readableBytes > PushRouter.maxHeadBytes { fail(context, .init(.badRequest, code: "bad_request", "request line too long")) }
                return false
            }
            let line = buffer.readableBytesView.prefix(lineEnd)
            if !refuse && endpoints.queries != nil && LiveQueryEndpoint.isQueryRequestLine(line) {
                route = .query
            } else if !refuse && endpoints.ingest != nil && IngestEndpoint.isIngestRequestLine(line) {
                route = .ingest
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
            return answered(queries.respond(head, keepAlive: keepAlive && !closeAfterResponse), keepAlive: keepAlive, context)
        }
        if route == .ingest, let ingest = endpoints.ingest {
            // Chunked or large bodies, and expectations other than 100-continue, are Hummingbird's.
            guard let head, let length = ingest.bodyLength(head) else {
                route = .http
                handOver(context)
                return false
            }
            let pending = PendingIngest(head: head, bodyStart: headEnd + 4, length: length)
            pendingIngest = pending
            if head.headers["expect"] != nil && buffer.readableBytes < pending.bodyStart + pending.length {
                context.writeAndFlush(wrapInboundOut(IngestEndpoint.continueResponse), promise: nil)
            }
            return answer(pending, context)
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

    /// Answers an ingest request once its whole body is in the buffer; true when the next
    /// request may already be there too.
    func answer(_ pending: PendingIngest, _ context: ChannelHandlerContext) -> Bool {
        guard let ingest = endpoints.ingest, buffer.readableBytes >= pending.bodyStart + pending.length else { return false }
        let keepAlive = LiveQueryEndpoint.keepsAlive(pending.head)
        let response = buffer.withUnsafeReadableBytes { bytes in
            ingest.respond(
                pending.head, body: UnsafeRawBufferPointer(rebasing: bytes[pending.bodyStart..<(pending.bodyStart + pending.length)]),
                keepAlive: keepAlive && !closeAfterResponse)
        }
        pendingIngest = nil
        buffer.moveReaderIndex(forwardBy: pending.bodyStart + pending.length)
        return answered(response, keepAlive: keepAlive, context)
    }

    /// Writes the response to a request answered here; true when the connection stays open and
    /// the next request may already be in the buffer.
    func answered(_ response: ByteBuffer, keepAlive: Bool, _ context: ChannelHandlerContext) -> Bool {
        guard keepAlive && !closeAfterResponse else {
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
        if buffer.readerIndex > PushRouter.maxHeadBytes { buffer.discardReadBytes() }
        return true
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
        if route == nil || route == .query || route == .ingest { context.flush() }
        context.fireChannelReadComplete()
    }

    /// Graceful shutdown: a connection that has not finished its request head yet is closed
    /// (once handed over, Hummingbird's handlers answer this event themselves).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, route != .http {
            // An ingest batch whose body is arriving is answered first; otherwise the connection
            // is between requests or mid-head, and closing it loses nothing.
            if pendingIngest != nil {
                closeAfterResponse = true
            } else {
                context.close(promise: nil)
            }
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
