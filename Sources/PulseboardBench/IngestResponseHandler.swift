import NIOCore
import NIOHTTP1

/// The last handler of one benchmark connection's pipeline: writes requests for its
/// `IngestConnection` and hands each complete response (status and body) back to it.
final class IngestResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// Set on the event loop once the connection is established; cleared when the channel closes.
    var connection: IngestConnection?
    private var context: ChannelHandlerContext?
    private var status = 0
    private var keepAlive = true
    private var body: ByteBuffer?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes and flushes one complete request; false when the channel is already gone.
    func send(head: HTTPRequestHead, body: ByteBuffer) -> Bool {
        guard let context, context.channel.isActive else { return false }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return true
    }

    func close() {
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
            body = nil
        case .body(var part):
            if body == nil {
                body = part
            } else {
                body!.writeBuffer(&part)
            }
        case .end:
            let received = body ?? ByteBuffer()
            body = nil
            connection?.responseReceived(from: self, status: status, body: received, keepAlive: keepAlive)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let connection = self.connection
        self.connection = nil
        connection?.channelClosed(self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension IngestResponseHandler: Sendable {}
