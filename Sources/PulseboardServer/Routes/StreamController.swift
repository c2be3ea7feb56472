import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine
import ServiceLifecycle

/// `GET /api/stream/:dashboard`: Server-Sent Events. A `snapshot`, then `delta`s (RFC 7386
/// merge patches) with `id: seq`; `Last-Event-ID` or `?since=` resumes with the missed deltas
/// when the topic still holds them. The bytes written are the hub's, shared by all subscribers.
struct StreamController: Sendable {
    let hub: Hub
    let store: DashboardStore
    let authorizer: Authorizer
    let telemetry: Telemetry
    static var retry: ByteBuffer { ByteBuffer(string: "retry: 3000\n\n") }

    /// Holds one of `push.max_streams` slots until the response (and its body closure) is gone,
    /// whatever path ends it.
    final class StreamSlot: Sendable {
        let hub: Hub
        init(hub: Hub) { self.hub = hub }
        deinit { hub.closeStream() }
    }

    func addRoutes(to router: Router<PulseboardRequestContext>) {
        router.get("/api/stream/:dashboard") { request, context in
            try self.stream(request, dashboard: context.parameters.get("dashboard") ?? "", channel: context.channel)
        }
    }

    func stream(_ request: Request, dashboard id: String, channel: any Channel) throws -> Response {
        try authorizer.require(.read, request)
        let spec = try store.servedSpec(id)
        var since: UInt64? = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        if let s = request.uri.queryParameters.get("since"), since == nil {
            guard let n = UInt64(s) else { throw APIError(.badRequest, code: "bad_since", "since must be a sequence number (an event id)") }
            since = n
        }
        let resolved = try spec.resolve(queryOf: request, reserved: ["key", "since"])
        guard hub.openStream() else {
            telemetry.streamsRefused.add(1)
            throw APIError(.serviceUnavailable, code: "too_many_streams", "the server holds its maximum of \(hub.configuration.maxStreams) streams (push.max_streams); retry later", retryAfterSeconds: 5)
        }
        let slot = StreamSlot(hub: hub)
        let queue = SubscriberQueue(capacity: hub.configuration.subscriberQueueFrames)
        // Eviction closes the socket: a writer stuck on an unread socket then fails and ends.
        queue.onEvict { channel.close(promise: nil) }
        let subscription: (key: String, initial: [ByteBuffer])
        do {
            subscription = try hub.subscribe(spec: spec, variables: resolved, since: since, queue: queue)
        } catch {
            throw APIError(.serviceUnavailable, code: error.code, error.message, retryAfterSeconds: 5)
        }
        let hub = self.hub
        let headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            _ = slot
            // The HTTP server stops before the hub's service: end this stream ourselves.
            await withGracefulShutdownHandler {
                do {
                    try await writer.write(StreamController.retry)
                    try await writer.write(contentsOf: subscription.initial)
                    streaming: while true {
                        switch await queue.next() {
                        case .frames(let frames):
                            try await writer.write(contentsOf: frames)
                        case .resync:
                            if let (event, seq) = hub.snapshot(key: subscription.key) {
                                queue.delivered(upTo: seq)
                                try await writer.write(event.sse)
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
            hub.unsubscribe(key: subscription.key, queue: queue)
            try await writer.finish(nil)
        })
    }
}
