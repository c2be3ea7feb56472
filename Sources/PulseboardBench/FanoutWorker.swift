import Foundation
import NIOCore
import NIOPosix

/// A share of the fan-out benchmark's subscribers on one event loop thread of this process. In
/// `--worker` mode a child process runs one of these and talks to its parent over stdin/stdout
/// (see `FanoutBenchmark.runWorker`).
final class FanoutWorker: FanoutWorkerControl {
    /// What a worker opens, and where; sent to child processes as JSON.
    struct Settings: Sendable, Codable {
        var host: String
        var port: Int
        var transport: FanoutBenchmark.Transport
        /// Request path (SSE stream, or the WebSocket endpoint).
        var path: String
        /// Text message sent once the WebSocket is open (Pulseboard's subscribe), if any.
        var subscribeMessage: String?
        /// Subscribers of this worker.
        var subscribers: Int
        /// Index of this worker's first subscriber among all of the benchmark's subscribers.
        var indexOffset: Int
        /// Subscriber `i` binds to source address `127.0.0.(2 + i % sourceAddresses)`; 0 binds none.
        var sourceAddresses: Int
        /// Connects (TCP + response head) in flight at once.
        var maxConnecting: Int
        var connectTimeoutSeconds: Int
    }

    private let threads: MultiThreadedEventLoopGroup
    private let group: NIOLoopBound<FanoutSubscriberGroup>

    private init(threads: MultiThreadedEventLoopGroup, group: NIOLoopBound<FanoutSubscriberGroup>) {
        self.threads = threads
        self.group = group
    }

    /// Starts the worker's event loop thread (nothing is connected yet).
    static func start(_ settings: Settings) async throws -> FanoutWorker {
        let target: SocketAddress
        do {
            target = try SocketAddress.makeAddressResolvingHost(settings.host, port: settings.port)
        } catch {
            throw FanoutBenchmarkError.invalidOptions("cannot resolve \(settings.host): \(error)")
        }
        let threads = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = threads.next()
        let group = try await loop.submit {
            NIOLoopBound(FanoutSubscriberGroup(settings: settings, target: target, eventLoop: loop), eventLoop: loop)
        }.get()
        return FanoutWorker(threads: threads, group: group)
    }

    func connect() async throws -> FanoutSubscriberGroup.ConnectSummary {
        let group = self.group
        return try await group.eventLoop.flatSubmit { group.value.connectAll() }.get()
    }

    func measure(window: Range<Int64>, graceMicros: Int64, last: Bool) async throws -> FanoutWorkerReport {
        let group = self.group
        try await group.eventLoop.submit { group.value.startWindow(window) }.get()
        let wait = window.upperBound + graceMicros - FanoutSubscriberHandler.wallClockMicros()
        if wait > 0 { try await Task.sleep(nanoseconds: UInt64(wait) * 1000) }
        return try await group.eventLoop.submit { group.value.finish(close: last) }.get()
    }

    func shutdown() async {
        try? await threads.shutdownGracefully()
    }
}
