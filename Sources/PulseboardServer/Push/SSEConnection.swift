import NIOCore
import PulseboardEngine

/// One SSE stream on raw NIO. The hub's loop task hands it each delta's shared bytes and it
/// writes them straight to its socket: no task, no queue, no copy. When the socket stops
/// draining (pending bytes over `push.subscriber_buffer_bytes`), deltas are dropped and one fresh
/// snapshot is written when it drains; unwritable for `push.unwritable_timeout_seconds`, it is
/// disconnected. Lives on its channel's event loop only.
final class SSEConnection: ChannelInboundHandler, PushSubscriber, PushConnection, PushStreamHandler, @unchecked Sendable {
    // @unchecked: every mutable field is touched on `eventLoop` only (NIO handler callbacks, and
    // the hub's deliver/sweep tasks, which it runs on this loop).
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let hub: Hub
    let telemetry: Telemetry
    let eventLoop: any EventLoop
    var encoding: PushEncoding { .sse }
    /// The only handler: NIO writes go straight to the pipeline's head.
    var context: ChannelHandlerContext?
    /// Deliveries go straight to the socket while NIO holds nothing for it.
    var socket = PushSocket(descriptor: -1)
    /// The channel's writability, kept from `channelWritabilityChanged` (NIO reports it
    /// synchronously inside the write that crosses the high-water mark), so a delivery need not
    /// read the channel's atomic.
    var writable = true
    var key = ""
    var state = SubscriptionState(deliveredSeq: 0)
    var unwritableSinceMs: Int64?
    var wroteSinceHeartbeat = false
    var lastHeartbeatMs: Int64 = 0
    var ended = false

    init(hub: Hub, telemetry: Telemetry, eventLoop: any EventLoop) {
        self.hub = hub
        self.telemetry = telemetry
        self.eventLoop = eventLoop
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.writable = context.channel.isWritable
        socket = PushSocket(channel: context.channel, enabled: hub.configuration.directWrites)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
    }

    /// Writes the response head and the first frames; deltas follow through `deliver`.
    func start(key: String, seq: UInt64, head: ByteBuffer, initial: [ByteBuffer]) {
        self.key = key
        state.covered(upTo: seq)
        lastHeartbeatMs = hub.nowMillis()
        hub.register(self)
        // Through NIO, behind anything it still holds for this connection.
        sendThroughNIO([head] + initial)
    }

    func deliver(_ frame: EncodedFrame, seq: UInt64) {
        guard !ended else { return }
        switch state.offer(seq: seq, writable: writable) {
        case .write:
            wroteSinceHeartbeat = true
            send(frame.sse)
        case .skip: break
        case .drop: telemetry.framesCoalesced.add(1)
        }
    }

    func deliverAlert(_ frame: EncodedFrame) {
        guard !ended, writable else { return }
        wroteSinceHeartbeat = true
        send(frame.sse)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if !writable {
            if unwritableSinceMs == nil { unwritableSinceMs = hub.nowMillis() }
        } else {
            unwritableSinceMs = nil
            if state.drained(), let (snapshot, seq) = hub.snapshot(key: key, encoding: .sse) {
                state.covered(upTo: seq)
                sendThroughNIO([snapshot])
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func sweep(nowMs: Int64) {
        guard let context, !ended else { return }
        if let since = unwritableSinceMs, nowMs - since > Int64(hub.configuration.unwritableTimeoutSeconds) * 1000 {
            telemetry.subscribersEvicted.add(1)
            context.close(promise: nil)
            return
        }
        if nowMs - lastHeartbeatMs >= Int64(hub.configuration.heartbeatSeconds) * 1000 {
            lastHeartbeatMs = nowMs
            if !wroteSinceHeartbeat && writable { send(PushWire.sseHeartbeat) }
            wroteSinceHeartbeat = false
        }
    }

    func topicEnded() { shutdown() }

    /// Ends the response with the last chunk and closes.
    func shutdown() {
        guard let context, !ended else { return }
        end()
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(PushWire.lastChunk)).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !handleStreamEvent(event, context: context) { context.fireUserInboundEventTriggered(event) }
    }

    /// Requests after the stream's are not read: the client only listens.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Leaves the hub, once.
    func end() {
        guard !ended else { return }
        ended = true
        hub.unsubscribe(key: key, subscriber: self)
        hub.deregister(self)
        hub.closeStream()
    }
}
