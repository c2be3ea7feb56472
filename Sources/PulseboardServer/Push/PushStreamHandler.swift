import NIOCore

/// An SSE or WebSocket connection handler: the channel events both answer the same way live
/// here, so the two stay alike.
protocol PushStreamHandler: AnyObject {
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
