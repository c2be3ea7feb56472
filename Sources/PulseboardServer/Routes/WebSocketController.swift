import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket
import PulseboardCore
import PulseboardEngine
import ServiceLifecycle

/// `GET /ws`: dashboards over WebSocket. A connection holds several subscriptions, one per
/// dashboard; each has its own bounded queue, and one writer task drains them all, so frames of
/// a subscription stay in order and the hub never waits on the socket.
///
/// Client → server: `{"op":"subscribe","dashboard":…,"vars":{…},"since":…}`,
/// `{"op":"unsubscribe","dashboard":…}`, `{"op":"ping"}`.
/// Server → client: `{"type":"snapshot",…frame}`, `{"type":"delta",…}`, `{"type":"pong"}`,
/// `{"type":"error","code":…,"message":…}` (errors never drop the connection).
struct WebSocketController: Sendable {
    let hub: Hub
    let store: DashboardStore
    let authorizer: Authorizer
    let telemetry: Telemetry
    let maxSubscriptions: Int
    /// Largest client message accepted.
    static let maxMessageBytes = 64 * 1024

    struct Subscription: Sendable {
        var key: String
        var queue: SubscriberQueue
    }

    func addRoutes(to router: Router<BasicWebSocketRequestContext>) {
        router.ws("/ws") { request, _ in
            do {
                try authorizer.require(.read, request)
            } catch {
                return .dontUpgrade
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, _ in
            try await self.session(inbound: inbound, outbound: outbound)
        }
    }

    func session(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        guard hub.openStream() else {
            telemetry.streamsRefused.add(1)
            let refusal = #"{"type":"error","code":"too_many_streams","message":"the server holds its maximum of streams (push.max_streams); retry later"}"#
            try await outbound.write(.text(refusal))
            try await outbound.close(.unknown(1013), reason: "try again later")
            return
        }
        defer { hub.closeStream() }
        let (signal, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let control = SubscriberQueue(capacity: 256, transport: .webSocket) { wake.yield() }
        let subscriptions = NIOLockedValueBox<[String: Subscription]>([:])
        defer {
            for s in subscriptions.withLockedValue({ $0.values }) { hub.unsubscribe(key: s.key, queue: s.queue) }
            wake.finish()
        }
        // The HTTP server stops first and the library only sends a close frame: end the session
        // ourselves so a client that never answers cannot hold up shutdown.
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The only writer of this connection; ends when `wake` finishes.
                    for await _ in signal {
                        try await drain(control, key: nil, to: outbound)
                        for s in subscriptions.withLockedValue({ Array($0.values) }) {
                            try await drain(s.queue, key: s.key, to: outbound)
                        }
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: WebSocketController.maxMessageBytes) {
                        guard case .text(let text) = message else {
                            reply(control, error: "bad_message", "messages are JSON text: {\"op\": \"subscribe\" | \"unsubscribe\" | \"ping\", …}")
                            continue
                        }
                        handle(text, control: control, subscriptions: subscriptions, wake: wake)
                    }
                    wake.finish()
                }
                // Whichever ends first (client gone, or shutdown) ends the session.
                try await group.next()
                wake.finish()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.finish()
        }
    }

    func drain(_ queue: SubscriberQueue, key: String?, to outbound: WebSocketOutboundWriter) async throws {
        while let next = queue.tryTake() {
            switch next {
            case .frames(let frames):
                for f in frames { try await outbound.write(.custom(.init(fin: true, opcode: .text, data: f))) }
            case .resync:
                if let key, let (event, seq) = hub.snapshot(key: key) {
                    queue.delivered(upTo: seq)
                    try await outbound.write(.custom(.init(fin: true, opcode: .text, data: event.ws)))
                }
            case .closed:
                return
            }
        }
    }

    func reply(_ control: SubscriberQueue, error code: String, _ message: String, dashboard: String? = nil) {
        var w = JSONWriter()
        w.beginObject()
        w.key("type"); w.string("error")
        if let dashboard { w.key("dashboard"); w.string(dashboard) }
        w.key("code"); w.string(code)
        w.key("message"); w.string(message)
        w.endObject()
        control.push(ByteBuffer(bytes: w.bytes), seq: 0)
    }

    func handle(
        _ text: String, control: SubscriberQueue, subscriptions: NIOLockedValueBox<[String: Subscription]>,
        wake: AsyncStream<Void>.Continuation
    ) {
        guard let message = try? JSONValue.parse(text), case .object = message else {
            reply(control, error: "bad_json", "messages must be JSON objects such as {\"op\":\"subscribe\",\"dashboard\":\"engagement\"}")
            return
        }
        guard case .string(let op)? = message["op"] else {
            reply(control, error: "bad_op", "\"op\" must be subscribe, unsubscribe or ping")
            return
        }
        switch op {
        case "ping":
            control.push(ByteBuffer(string: #"{"type":"pong"}"#), seq: 0)
        case "unsubscribe":
            guard case .string(let id)? = message["dashboard"] else {
                reply(control, error: "bad_request", "unsubscribe needs \"dashboard\"")
                return
            }
            if let s = subscriptions.withLockedValue({ $0.removeValue(forKey: id) }) {
                hub.unsubscribe(key: s.key, queue: s.queue)
            } else {
                reply(control, error: "not_subscribed", "this connection has no subscription to '\(id)'", dashboard: id)
            }
        case "subscribe":
            subscribe(message, control: control, subscriptions: subscriptions, wake: wake)
        default:
            reply(control, error: "bad_op", "unknown op '\(op)'; one of subscribe, unsubscribe, ping")
        }
    }

    func subscribe(
        _ message: JSONValue, control: SubscriberQueue, subscriptions: NIOLockedValueBox<[String: Subscription]>,
        wake: AsyncStream<Void>.Continuation
    ) {
        guard case .string(let id)? = message["dashboard"] else {
            reply(control, error: "bad_request", "subscribe needs \"dashboard\"")
            return
        }
        guard let entry = store.entry(id) else {
            reply(control, error: "unknown_dashboard", "no dashboard '\(id)'; dashboards are " + store.all().map(\.id).joined(separator: ", "), dashboard: id)
            return
        }
        guard let spec = entry.spec else {
            reply(control, error: "invalid_dashboard", "dashboard '\(id)' has errors; see /api/dashboards/\(id)/errors", dashboard: id)
            return
        }
        var values: [String: String] = [:]
        if let vars = message["vars"] {
            guard case .object(let members) = vars else {
                reply(control, error: "bad_variables", "\"vars\" must be an object of variable name to value", dashboard: id)
                return
            }
            for (k, v) in members {
                guard case .string(let s) = v else {
                    reply(control, error: "bad_variables", "variable '\(k)' must be a string", dashboard: id)
                    return
                }
                values[k] = s
            }
        }
        var since: UInt64? = nil
        if let s = message["since"] {
            guard case .number(let n) = s, n >= 0, n == n.rounded() else {
                reply(control, error: "bad_since", "\"since\" must be a sequence number", dashboard: id)
                return
            }
            since = UInt64(n)
        }
        let resolved: [String: String]
        do { resolved = try spec.resolve(values) } catch {
            reply(control, error: "bad_variables", error.message, dashboard: id)
            return
        }
        let previous = subscriptions.withLockedValue { $0[id] }
        if previous == nil, subscriptions.withLockedValue({ $0.count }) >= maxSubscriptions {
            reply(control, error: "too_many_subscriptions", "a connection holds at most \(maxSubscriptions) subscriptions (push.max_subscriptions_per_connection)", dashboard: id)
            return
        }
        if let previous { hub.unsubscribe(key: previous.key, queue: previous.queue) }
        let queue = SubscriberQueue(capacity: hub.configuration.subscriberQueueFrames, transport: .webSocket) { wake.yield() }
        do {
            let (key, _) = try hub.subscribe(spec: spec, variables: resolved, since: since, queue: queue, enqueueInitial: true)
            subscriptions.withLockedValue { $0[id] = Subscription(key: key, queue: queue) }
            wake.yield()
        } catch {
            reply(control, error: error.code, error.message, dashboard: id)
        }
    }
}
