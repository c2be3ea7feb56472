import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Hummingbird's HTTP/1.1 child channel with the stream endpoints in front: each new
/// connection starts with a `PushRouter`, which keeps stream requests in NIO (written from the
/// connection's own event loop, no task per subscriber) and hands the rest to `HTTP1Channel`.
/// It also enforces `server.max_connections`, answering the excess with 503.
struct PushChildChannel: ServerChildChannel {
    /// Who serves a connection, known once its request line is in.
    enum Route: Sendable {
        case http(HTTP1Channel.Value)
        case push
    }

    struct Value: ServerChildChannelValue {
        let channel: any Channel
        let route: EventLoopFuture<Route>
    }

    let inner: HTTP1Channel
    let endpoints: PushEndpoints
    let gate: ConnectionGate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let refuse = !gate.open()
        let gate = self.gate
        let routed = channel.eventLoop.makePromise(of: Route.self)
        channel.closeFuture.whenComplete { _ in
            gate.close()
            routed.succeed(.push)  // no-op once routed
        }
        let inner = self.inner
        let router = PushRouter(endpoints: endpoints, refuse: refuse, settle: { routed.succeed(.push) }) { context in
            // HTTP1Channel's setup completes at once, on this loop.
            inner.setup(channel: channel, logger: logger).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let value):
                    // Removing the router passes Hummingbird the bytes it has read.
                    _ = context.pipeline.syncOperations.removeHandler(context: context)
                    routed.succeed(.http(value))
                case .failure(let error):
                    routed.fail(error)
                    context.close(promise: nil)
                }
            }
        }
        return channel.eventLoop.makeCompletedFuture {
            // Each channel keeps its last receive buffer for reuse. A stream reads one request
            // and then nothing, so start small (NIO's default is 2 KiB; busy connections grow).
            try channel.syncOptions?.setOption(
                ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536))
            try channel.pipeline.syncOperations.addHandler(router)
            return Value(channel: channel, route: routed.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        // Until the request line is in (or a live query or ingest connection closes); a stream
        // then belongs to its NIO handlers, no task kept.
        guard case .http(let http)? = try? await value.route.get() else { return }
        await inner.handle(value: http, logger: logger)
    }
}

/// Counts open connections against `server.max_connections`.
final class ConnectionGate: Sendable {
    let limit: Int
    let count = Atomic<Int>(0)
    /// Connections accepted past the limit only to be answered 503.
    static let refusalHeadroom = 256

    init(limit: Int) { self.limit = limit }

    /// Counts a connection; false when it is over the limit (it is counted all the same and
    /// must be closed with `close`).
    func open() -> Bool { count.wrappingAdd(1, ordering: .relaxed).newValue <= limit }

    func close() { count.wrappingSubtract(1, ordering: .relaxed) }
}
