import NIOCore
import NIOWebSocket
import PulseboardCore
import PulseboardEngine

/// One WebSocket connection on raw NIO, holding up to `push.max_subscriptions_per_connection`
/// subscriptions. Deltas arrive as complete pre-encoded frames (compressed once per topic when
/// permessage-deflate is on) and are written as they are. Client messages are JSON ops
/// (`subscribe`, `unsubscribe`, `ping`); a bad one gets an `error` message, never a close.
/// Pings every 2 × `push.heartbeat_seconds`; a client silent for two ping periods is closed.
/// Lives on its channel's event loop only.
final class WebSocketConnection: ChannelInboundHandler, PushConnection, PushStreamHandler, @unchecked Sendable {
    // @unchecked: every mutable field is touched on `eventLoop` only.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// One subscription: the hub keys subscribers by identity, one object each.
    final class Subscription: PushSubscriber, @unchecked Sendable {
        // @unchecked: loop-confined, like its connection. The cycle with the connection is
        // broken when the connection ends (it drops its subscriptions).
        let connection: WebSocketConnection
        let eventLoop: any EventLoop
        let encoding: PushEncoding
        /// The dashboard id the client subscribed with.
        let dashboard: String
        /// The hub's topic key (of the phase the hub put it in), set once subscribed.
        var key = ""
        var state: SubscriptionState
        /// Cleared when the connection drops the subscription.
        var active = true

        init(connection: WebSocketConnection, dashboard: String, seq: UInt64) {
            self.connection = connection
            self.eventLoop = connection.eventLoop
            self.encoding = connection.encoding
            self.dashboard = dashboard
            self.state = SubscriptionState(deliveredSeq: seq)
        }

        func deliver(_ frame: EncodedFrame, seq: UInt64) {
            guard active else { return }
            switch state.offer(seq: seq, writable: connection.writable) {
            case .write: connection.send(frame.bytes(for: encoding))
            case .skip: break
            case .drop: connection.endpoints.telemetry.framesCoalesced.add(1)
            }
        }

        func topicEnded() { connection.topicEnded(self) }
    }

    let endpoints: PushEndpoints
    let eventLoop: any EventLoop
    let encoding: PushEncoding
    var hub: Hub { endpoints.hub }
    /// The only handler: NIO writes go straight to the pipeline's head.
    var context: ChannelHandlerContext?
    /// Deliveries go straight to the socket while NIO holds nothing for it.
    var socket = PushSocket(descriptor: -1)
    /// Client frames, cut from the bytes read.
    var reader = WebSocketFrameReader(maxFrameSize: PushEndpoints.maxMessageBytes)
    /// The channel's writability, kept from `channelWritabilityChanged` (NIO reports it
    /// synchronously inside the write that crosses the high-water mark).
    var writable = true
    /// Subscriptions, one per dashboard id (an array: most connections hold one).
    var subscriptions: [Subscription] = []
    var message: ByteBuffer?
    var messageCompressed = false
    var lastHeardMs: Int64 = 0
    var lastPingMs: Int64 = 0
    var unwritableSinceMs: Int64?
    var ended = false

    static let pong = PushWire.webSocketFrame(.text, payload: Array(#"{"type":"pong"}"#.utf8))

    init(endpoints: PushEndpoints, eventLoop: any EventLoop, encoding: PushEncoding) {
        self.endpoints = endpoints
        self.eventLoop = eventLoop
        self.encoding = encoding
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.writable = context.channel.isWritable
        socket = PushSocket(channel: context.channel, enabled: hub.configuration.directWrites)
        lastHeardMs = hub.nowMillis()
        lastPingMs = lastHeardMs
        hub.register(self)
    }

    /// Writes the handshake's answer: through NIO, behind anything it still holds for this
    /// connection, so that later writes may take the shortcut once it is out.
    func start(response: ByteBuffer) {
        sendThroughNIO([response])
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
        self.context = nil
    }

    // MARK: inbound frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.append(unwrapInboundIn(data))
        do {
            while !ended, let frame = try reader.next() { received(frame) }
        } catch {
            switch error {
            case .tooLarge: protocolError(1009, "frame over \(PushEndpoints.maxMessageBytes) bytes")
            case .protocolError(let reason): protocolError(1002, reason)
            }
        }
    }

    func received(_ frame: WebSocketFrame) {
        lastHeardMs = hub.nowMillis()
        switch frame.opcode {
        case .text, .binary:
            guard message == nil else { return protocolError(1002, "a new message began before the last one ended") }
            if frame.opcode == .binary { reply(error: "bad_message", "messages are JSON text: {\"op\": \"subscribe\" | \"unsubscribe\" | \"ping\", …}") }
            message = frame.opcode == .text ? frame.unmaskedData : nil
            messageCompressed = frame.rsv1
            if frame.opcode == .text && frame.fin { finishMessage() }
            if frame.opcode == .binary && frame.fin { message = nil }
        case .continuation:
            guard var m = message else { return }
            var part = frame.unmaskedData
            guard m.readableBytes + part.readableBytes <= PushEndpoints.maxMessageBytes else {
                return protocolError(1009, "message over \(PushEndpoints.maxMessageBytes) bytes")
            }
            m.writeBuffer(&part)
            message = m
            if frame.fin { finishMessage() }
        case .ping:
            send(PushWire.webSocketFrame(.pong, payload: frame.unmaskedData.readableBytesView))
        case .pong:
            break
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self) ?? 1000
            close(code: code, reason: "")
        default:
            protocolError(1002, "unknown opcode")
        }
    }

    func finishMessage() {
        guard let m = message else { return }
        message = nil
        let bytes: [UInt8]
        if messageCompressed {
            guard encoding == .webSocketDeflate else { return protocolError(1002, "compressed message without permessage-deflate") }
            switch Inflater.inflate(m, maxBytes: PushEndpoints.maxMessageBytes) {
            case .bytes(let inflated): bytes = inflated
            case .tooLarge: return protocolError(1009, "message over \(PushEndpoints.maxMessageBytes) bytes once inflated")
            case .corrupt: return protocolError(1007, "bad compressed message")
            }
        } else {
            bytes = Array(m.readableBytesView)
        }
        handle(String(decoding: bytes, as: UTF8.self))
    }

    /// An I/O error: the socket is gone or going.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end()
        context.close(promise: nil)
    }

    func protocolError(_ code: UInt16, _ reason: String) {
        close(code: code, reason: reason)
    }

    /// Sends a close frame and closes the socket once it is written.
    func close(code: UInt16, reason: String) {
        guard let context, !ended else { return }
        end()
        var payload = ByteBuffer()
        payload.writeInteger(code)
        payload.writeString(String(reason.prefix(120)))
        let channel = context.channel
        context.writeAndFlush(NIOAny(PushWire.webSocketFrame(.close, payload: payload.readableBytesView)))
            .whenComplete { _ in channel.close(promise: nil) }
    }

    // MARK: ops

    func reply(error code: String, _ text: String, dashboard: String? = nil) {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("error")
        if let dashboard { w.key("dashboard"); w.string(dashboard) }
        w.key("code"); w.string(code)
        w.key("message"); w.string(text)
        w.endObject()
        send(PushWire.webSocketFrame(.text, payload: w.bytes))
    }

    func handle(_ text: String) {
        guard let message = try? JSONValue.parse(text), case .object = message else {
            return reply(error: "bad_json", "messages must be JSON objects such as {\"op\":\"subscribe\",\"dashboard\":\"engagement\"}")
        }
        guard case .string(let op)? = message["op"] else {
            return reply(error: "bad_op", "\"op\" must be subscribe, unsubscribe or ping")
        }
        switch op {
        case "ping":
            send(WebSocketConnection.pong)
        case "unsubscribe":
            guard case .string(let id)? = message["dashboard"] else { return reply(error: "bad_request", "unsubscribe needs \"dashboard\"") }
            guard let s = removeSubscription(id) else {
                return reply(error: "not_subscribed", "this connection has no subscription to '\(id)'", dashboard: id)
            }
            drop(s)
        case "subscribe":
            subscribe(message)
        default:
            reply(error: "bad_op", "unknown op '\(op)'; one of subscribe, unsubscribe, ping")
        }
    }

    func subscribe(_ message: JSONValue) {
        guard case .string(let id)? = message["dashboard"] else { return reply(error: "bad_request", "subscribe needs \"dashboard\"") }
        let spec: DashboardSpec
        do { spec = try endpoints.store.servedSpec(id) } catch { return reply(error: error.code, error.message, dashboard: id) }
        var values: [String: String] = [:]
        if let vars = message["vars"] {
            guard case .object(let members) = vars else {
                return reply(error: "bad_variables", "\"vars\" must be an object of variable name to value", dashboard: id)
            }
            for (k, v) in members {
                guard case .string(let s) = v else { return reply(error: "bad_variables", "variable '\(k)' must be a string", dashboard: id) }
                values[k] = s
            }
        }
        var since: UInt64? = nil
        if let s = message["since"] {
            guard case .number(let n) = s, n >= 0, n == n.rounded() else { return reply(error: "bad_since", "\"since\" must be a sequence number", dashboard: id) }
            since = UInt64(n)
        }
        let resolved: [String: String]
        do { resolved = try spec.resolve(values) } catch { return reply(error: "bad_variables", error.message, dashboard: id) }
        let limit = hub.configuration.maxSubscriptionsPerConnection
        if !subscriptions.contains(where: { $0.dashboard == id }), subscriptions.count >= limit {
            return reply(error: "too_many_subscriptions", "a connection holds at most \(limit) subscriptions (push.max_subscriptions_per_connection)", dashboard: id)
        }
        if let previous = removeSubscription(id) { drop(previous) }
        guard context != nil else { return }
        let subscription = Subscription(connection: self, dashboard: id, seq: 0)
        do {
            let subscribed = try hub.subscribe(spec: spec, variables: resolved, since: since, subscriber: subscription)
            subscription.key = subscribed.key
            subscription.state.covered(upTo: subscribed.seq)
            subscriptions.append(subscription)
            for frame in subscribed.initial { send(frame) }
        } catch {
            reply(error: error.code, error.message, dashboard: id)
        }
    }

    func topicEnded(_ subscription: Subscription) {
        guard let i = subscriptions.firstIndex(where: { $0 === subscription }) else { return }
        let s = subscriptions.remove(at: i)
        drop(s)
        reply(error: "dashboard_removed", "dashboard '\(s.dashboard)' was removed", dashboard: s.dashboard)
    }

    /// Takes the subscription to dashboard `id` out of the list.
    func removeSubscription(_ id: String) -> Subscription? {
        guard let i = subscriptions.firstIndex(where: { $0.dashboard == id }) else { return nil }
        return subscriptions.remove(at: i)
    }

    // MARK: upkeep

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if !writable {
            if unwritableSinceMs == nil { unwritableSinceMs = hub.nowMillis() }
        } else {
            unwritableSinceMs = nil
            var snapshots: [ByteBuffer] = []
            for s in subscriptions where s.state.drained() {
                if let (snapshot, seq) = hub.snapshot(key: s.key, encoding: encoding) {
                    s.state.covered(upTo: seq)
                    snapshots.append(snapshot)
                }
            }
            sendThroughNIO(snapshots)
        }
        context.fireChannelWritabilityChanged()
    }

    func deliverAlert(_ frame: EncodedFrame) {
        guard !ended, writable else { return }
        send(frame.bytes(for: encoding))
    }

    func sweep(nowMs: Int64) {
        guard let context, !ended else { return }
        if let since = unwritableSinceMs, nowMs - since > Int64(hub.configuration.unwritableTimeoutSeconds) * 1000 {
            endpoints.telemetry.subscribersEvicted.add(1)
            end()
            context.close(promise: nil)
            return
        }
        let period = 2 * Int64(hub.configuration.heartbeatSeconds) * 1000
        if nowMs - lastHeardMs > 2 * period {
            endpoints.telemetry.webSocketsTimedOut.add(1)
            close(code: 1001, reason: "no answer to pings")
            return
        }
        if nowMs - lastPingMs >= period {
            lastPingMs = nowMs
            send(PushWire.webSocketFrame(.ping, payload: [UInt8]()))
        }
    }

    func shutdown() { close(code: 1001, reason: "server shutting down") }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !handleStreamEvent(event, context: context) { context.fireUserInboundEventTriggered(event) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end()
        context.fireChannelInactive()
    }

    /// Ends one subscription: out of the hub, and deaf to deliveries already queued.
    func drop(_ subscription: Subscription) {
        subscription.active = false
        hub.unsubscribe(key: subscription.key, subscriber: subscription)
    }

    /// Leaves the hub, once.
    func end() {
        guard !ended else { return }
        ended = true
        for s in subscriptions { drop(s) }
        subscriptions = []
        hub.deregister(self)
        hub.closeStream()
    }
}
