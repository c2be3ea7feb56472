import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The only handler of one fan-out subscriber's channel: writes the raw request (SSE `GET`, or a
/// WebSocket upgrade and then the masked subscribe message), parses what comes back on raw bytes
/// with `FanoutStreamParser`, answers pings, and reports the response and every frame's receive
/// time to its `FanoutSubscriberGroup`.
final class FanoutSubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let group: FanoutSubscriberGroup
    private let request: ByteBuffer
    private let subscribeFrame: ByteBuffer?
    private let transport: FanoutStreamParser.Transport
    private var parser: FanoutStreamParser
    /// Whether the group was told that this subscriber is ready or failed.
    private var settled = false
    private var failure: String?
    private var sawSnapshot = false

    init(group: FanoutSubscriberGroup, transport: FanoutStreamParser.Transport, request: ByteBuffer, subscribeFrame: ByteBuffer?) {
        self.group = group
        self.transport = transport
        self.request = request
        self.subscribeFrame = subscribeFrame
        parser = FanoutStreamParser(transport: transport)
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = Self.wallClockMicros()
        let buffer = unwrapInboundIn(data)
        group.bytesReceived += buffer.readableBytes
        buffer.withUnsafeReadableBytes { bytes in
            parser.feed(bytes) { output in handle(output, context: context, now: now) }
        }
    }

    private func handle(_ output: FanoutStreamParser.Output, context: ChannelHandlerContext, now: Int64) {
        switch output {
        case .head(let status):
            let expected = transport == .sse ? 200 : 101
            guard status == expected else {
                fail("HTTP \(status)", context: context)
                return
            }
            if let subscribeFrame {
                context.writeAndFlush(wrapOutboundOut(subscribeFrame), promise: nil)
            }
            settled = true
            group.subscriberSettled(channel: context.channel, failure: nil)
        case .message(let event, let payload):
            guard let stamp = FanoutFrameStamp.parse(event: event, payload: payload) else { return }
            switch stamp.kind {
            case .frame:
                group.frameReceived(key: stamp.key, timestampMicros: stamp.timestampMicros, nowMicros: now)
            case .snapshot:
                group.snapshotReceived(key: stamp.key, first: !sawSnapshot)
                sawSnapshot = true
            case .error:
                group.count("server error message")
            case .other:
                break
            }
        case .ping(let payload):
            context.writeAndFlush(wrapOutboundOut(Self.maskedFrame(opcode: 0xA, payload: payload)), promise: nil)
        case .close:
            fail("closed by server (WebSocket close)", context: context)
        case .end(let reason):
            fail(reason, context: context)
        }
    }

    private func fail(_ reason: String, context: ChannelHandlerContext) {
        if failure == nil { failure = reason }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !settled {
            settled = true
            group.subscriberSettled(channel: nil, failure: failure ?? "closed before the response head")
        } else {
            group.subscriberClosed(reason: failure ?? "closed by server")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(FanoutSubscriberGroup.describe(error), context: context)
    }

    /// The current wall-clock time in µs since the epoch (what frame `ts` values are compared with).
    static func wallClockMicros() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000
    }

    /// A final client-to-server WebSocket frame: always masked (RFC 6455 §5.3).
    static func maskedFrame(opcode: UInt8, payload: some Collection<UInt8>) -> ByteBuffer {
        let mask: [UInt8] = [0x5A, 0x13, 0xC7, 0x2E]
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.count + 14)
        buffer.writeInteger(0x80 | opcode)
        if payload.count < 126 {
            buffer.writeInteger(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(payload.count))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(mask)
        for (index, byte) in payload.enumerated() {
            buffer.writeInteger(byte ^ mask[index & 3])
        }
        return buffer
    }
}

@available(*, unavailable)
extension FanoutSubscriberHandler: Sendable {}
