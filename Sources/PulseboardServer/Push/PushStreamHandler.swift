import NIOCore

/// An SSE or WebSocket connection handler: the channel events both answer the same way live
/// here, so the two stay alike.
protocol PushStreamHandler: AnyObject {
    /// The handler's context while it is in the pipeline.
    var context: ChannelHandlerContext? { get }
    /// The socket, written directly while NIO holds nothing for it.
    var socket: PushSocket { get set }
    /// Set once the connection left the hub (always by `channelInactive`, before or when NIO
    /// closes the socket): from then on every write goes through NIO.
    var ended: Bool { get }
    /// Leaves the hub, once.
    func end()
    /// Ends the stream the protocol's way (the last chunk, a close frame) and closes.
    func shutdown()
}

extension PushStreamHandler {
    /// Answers a user event shared by both streams; false for any other, to pass on.
    /// Quiescing (graceful shutdown) ends the stream properly. The client closing its side
    /// (the server allows half-closure) means it is gone: an EventSource never half-closes, and
    /// a WebSocket client that does so without a close frame has left (close code 1006).
    /// Without this its slot would wait for a write to fail, and a dashboard that does not
    /// change writes only a heartbeat every 15 s.
    func handleStreamEvent(_ event: Any, context: ChannelHandlerContext) -> Bool {
        switch event {
        case is ChannelShouldQuiesceEvent:
            shutdown()
        case let e as ChannelEvent where e == .inputClosed:
            end()
            context.close(promise: nil)
        default:
            return false
        }
        return true
    }
}

extension PushStreamHandler {
    /// Writes and flushes `bytes`: straight to the socket when NIO holds nothing for it, else
    /// (and whatever a short write left) through NIO, behind the bytes it holds.
    @inline(__always)
    func send(_ bytes: ByteBuffer) {
        let sent = ended ? 0 : socket.sendNow(bytes)
        guard sent < bytes.readableBytes else { return }
        var rest = bytes
        rest.moveReaderIndex(forwardBy: sent)
        sendThroughNIO([rest])
    }

    /// Writes `buffers` through NIO and flushes: for the first bytes of a connection (NIO may
    /// still hold what was written before this handler) and for what the socket did not take.
    func sendThroughNIO(_ buffers: [ByteBuffer]) {
        guard let context, let last = buffers.last else { return }
        for buffer in buffers.dropLast() { context.write(NIOAny(buffer), promise: nil) }
        // NIO completes writes in order: when the last one is done, so are the ones before it.
        socket.handedToNIO()
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { _ in self.socket.completed() }
        context.writeAndFlush(NIOAny(last), promise: promise)
    }
}
