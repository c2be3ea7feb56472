import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine
import ServiceLifecycle

/// `GET /api/stream/:dashboard` on a keep-alive connection Hummingbird already serves (a
/// browser may reuse one for its EventSource). New connections get the lean NIO transport
/// (`SSEConnection`); this one speaks the same protocol from a task per stream.
struct StreamController: Sendable {
    let hub: Hub
    let store: DashboardStore
    let authorizer: Authorizer
    let telemetry: Telemetry
    /// The resume point: `Last-Event-ID`, else `?since=`.
    static func since(lastEventId: String?, query: String?) throws(APIError) -> UInt64? {
        if let id = lastEventId.flatMap({ UInt64($0.trimmingCharacters(in: .whitespaces)) }) { return id }
        guard let query else { return nil }
        guard let n = UInt64(query) else { throw APIError(.badRequest, code: "bad_since", "since must be a sequence number (an event id)") }
        return n
    }

    /// Holds one of `push.max_streams` slots until the response (and its body closure) is gone,
    /// whatever path ends it.
    final class StreamSlot: Sendable {
        let hub: Hub
        init(hub: Hub) { self.hub = hub }
        deinit { hub.closeStream() }
    }

    func addRoutes(to router: Router<PulseboardRequestContext>) {
        router.get("/api/stream/:dashboard") { request, context in
            try await self.stream(request, dashboard: context.parameters.get("dashboard") ?? "", channel: context.channel)
        }
    }

    func stream(_ request: Request, dashboard id: String, channel: any Channel) async throws -> Response {
        try authorizer.require(.read, request)
        let spec = try store.servedSpec(id)
        let since = try StreamController.since(
            lastEventId: request.headers[HTTPField.Name("Last-Event-ID")!], query: request.uri.queryParameters.get("since"))
        let resolved = try spec.resolve(queryOf: request, reserved: ["key", "since"])
        guard hub.openStream() else {
            telemetry.streamsRefused.add(1)
            throw APIError(.serviceUnavailable, code: "too_many_streams", "the server holds its maximum of \(hub.configuration.maxStreams) streams (push.max_streams); retry later", retryAfterSeconds: 5)
        }
        let slot = StreamSlot(hub: hub)
        let hub = self.hub
        let telemetry = self.telemetry
        let queue = SubscriberQueue(
            capacity: 64, eventLoop: channel.eventLoop, heartbeatSeconds: hub.configuration.heartbeatSeconds,
            unwritableTimeoutSeconds: hub.configuration.unwritableTimeoutSeconds, clock: { hub.nowMillis() })
        // Eviction closes the socket: a writer stuck on an unread socket then fails and ends.
        queue.onEvict {
            telemetry.subscribersEvicted.add(1)
            channel.close(promise: nil)
        }
        let subscription: Hub.Subscribed
        do {
            // The hub wants subscribe on the subscriber's loop, so deltas queue after `initial`.
            subscription = try await channel.eventLoop.submit {
                let s = try hub.subscribe(spec: spec, variables: resolved, since: since, subscriber: queue)
                queue.delivered(upTo: s.seq)
                return s
            }.get()
        } catch let error as SubscribeError {
            throw APIError(.serviceUnavailable, code: error.code, error.message, retryAfterSeconds: 5)
        }
        hub.register(queue)
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            _ = slot
            // The HTTP server stops before the hub's service: end this stream ourselves.
            await withGracefulShutdownHandler {
                do {
                    try await writer.write(PushWire.unchunk(PushWire.sseRetry))
                    try await writer.write(contentsOf: subscription.initial.map(PushWire.unchunk))
                    streaming: while true {
                        switch await queue.next() {
                        case .frames(let frames):
                            try await writer.write(contentsOf: frames.map(PushWire.unchunk))
                        case .resync:
                            if let (bytes, seq) = hub.snapshot(key: subscription.key, encoding: .sse) {
                                queue.delivered(upTo: seq)
                                try await writer.write(PushWire.unchunk(bytes))
                            }
                        case .closed:
                            break streaming
                        }
                    }
                } catch {
                    // The client went away; fall through to unsubscribe.
                }
            } onGracefulShutdown: {
                queue.close()
            }
            hub.unsubscribe(key: subscription.key, subscriber: queue)
            hub.deregister(queue)
            try await writer.finish(nil)
        })
    }
}
