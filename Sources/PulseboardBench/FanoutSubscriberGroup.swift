import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// All subscribers of one fan-out worker, confined to its single event loop: opens them at a
/// bounded number of connects in flight (each bound to one of several loopback source addresses),
/// then records every frame whose server timestamp falls in the measurement window.
final class FanoutSubscriberGroup {
    /// What connecting all subscribers gave.
    struct ConnectSummary: Sendable, Codable {
        var ready = 0
        var failed = 0
        var errors: [String: Int] = [:]
        var seconds = 0.0
    }

    let eventLoop: any EventLoop
    private let settings: FanoutWorker.Settings
    private let target: SocketAddress
    private let request: ByteBuffer
    private let subscribeFrame: ByteBuffer?
    private var bootstraps: [Int: ClientBootstrap] = [:]

    private var nextIndex = 0
    private var connecting = 0
    private var connectStart = NIODeadline.now()
    private var connectPromise: EventLoopPromise<ConnectSummary>?
    private var summary = ConnectSummary()
    private var channels: [any Channel] = []
    private var stopping = false

    /// Measurement window on frame timestamps, in µs since the epoch; nothing is recorded before it is set.
    private var window: Range<Int64>?
    private var latencies: [Int64] = []
    private var frameKeys: Set<Int64> = []
    private var delivered = 0
    private var outsideWindow = 0
    private var measuredErrors: [String: Int] = [:]
    /// Snapshots received (Pulseboard sends one per subscription).
    var snapshots = 0
    /// Subscribers by the phase their first snapshot named.
    private var subscribersByPhase: [Int: Int] = [:]
    var bytesReceived = 0

    init(settings: FanoutWorker.Settings, target: SocketAddress, eventLoop: any EventLoop) {
        self.settings = settings
        self.target = target
        self.eventLoop = eventLoop
        var head = "GET \(settings.path) HTTP/1.1\r\nHost: \(settings.host):\(settings.port)\r\nUser-Agent: pulseboard-bench\r\n"
        switch settings.transport {
        case .sse:
            head += "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
        case .webSocket:
            head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: cHVsc2Vib2FyZC1iZW5jaA==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        }
        request = ByteBuffer(string: head)
        subscribeFrame = settings.subscribeMessage.map { FanoutSubscriberHandler.maskedFrame(opcode: 0x1, payload: Array($0.utf8)) }
    }

    // MARK: Connecting

    /// Opens every subscriber; succeeds once each is ready (response head accepted) or has failed.
    func connectAll() -> EventLoopFuture<ConnectSummary> {
        eventLoop.preconditionInEventLoop()
        let promise = eventLoop.makePromise(of: ConnectSummary.self)
        connectPromise = promise
        connectStart = .now()
        pump()
        return promise.futureResult
    }

    private func pump() {
        while !stopping, connecting < settings.maxConnecting, nextIndex < settings.subscribers {
            let index = settings.indexOffset + nextIndex
            nextIndex += 1
            connecting += 1
            bootstrap(forSource: settings.sourceAddresses > 0 ? index % settings.sourceAddresses : -1)
                .connect(to: target)
                .assumeIsolated()
                .whenFailure { error in
                    self.subscriberSettled(channel: nil, failure: "connect: " + Self.describe(error))
                }
        }
        if connecting == 0, nextIndex >= settings.subscribers || stopping, let promise = connectPromise {
            connectPromise = nil
            summary.seconds = Double((NIODeadline.now() - connectStart).nanoseconds) / 1e9
            promise.succeed(summary)
        }
    }

    private func bootstrap(forSource source: Int) -> ClientBootstrap {
        if let existing = bootstraps[source] { return existing }
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let transport = settings.transport
        let request = self.request
        let subscribeFrame = self.subscribeFrame
        var bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(Int64(settings.connectTimeoutSeconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = FanoutSubscriberHandler(
                        group: bound.value, transport: transport, request: request, subscribeFrame: subscribeFrame)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        if source >= 0, let address = try? SocketAddress(ipAddress: "127.0.0.\(2 + source)", port: 0) {
            // IP_BIND_ADDRESS_NO_PORT (24): pick the port at connect time, by 4-tuple, so binding a
            // source address does not reserve an ephemeral port for every destination.
            bootstrap = bootstrap
                .channelOption(ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24)), value: 1)
                .bind(to: address)
        }
        bootstraps[source] = bootstrap
        return bootstrap
    }

    /// Called once per subscriber: ready (with its channel) or failed (with a reason).
    func subscriberSettled(channel: (any Channel)?, failure: String?) {
        connecting -= 1
        if let channel, failure == nil {
            summary.ready += 1
            channels.append(channel)
            if stopping { channel.close(promise: nil) }
        } else {
            summary.failed += 1
            summary.errors[failure ?? "failed", default: 0] += 1
        }
        pump()
    }

    /// A ready subscriber's channel closed.
    func subscriberClosed(reason: String) {
        guard !stopping else { return }
        count("disconnected: " + reason)
    }

    /// Counts an error seen after connecting (a disconnect, an error message from the server).
    func count(_ error: String) {
        measuredErrors[error, default: 0] += 1
    }

    // MARK: Measuring

    /// From now on, frames with a timestamp in `window` (µs since the epoch) are recorded.
    func startWindow(_ window: Range<Int64>) {
        self.window = window
        latencies.reserveCapacity(min(50_000_000, summary.ready * Int(max(1, (window.upperBound - window.lowerBound) / 1_000_000 + 1))))
        measuredErrors = [:]
    }

    /// A subscriber's snapshot (`first`: its first), whose key is its phase's seq.
    func snapshotReceived(key: Int64, first: Bool) {
        snapshots += 1
        if first { subscribersByPhase[FanoutFrameStamp.phase(of: key), default: 0] += 1 }
    }

    func frameReceived(key: Int64, timestampMicros: Int64, nowMicros: Int64) {
        guard let window, window.contains(timestampMicros) else {
            outsideWindow += 1
            return
        }
        delivered += 1
        frameKeys.insert(key)
        latencies.append(nowMicros - timestampMicros)
    }

    /// Returns what the window measured and starts counting afresh; with `close`, also closes
    /// every subscriber (the last window).
    func finish(close: Bool) -> FanoutWorkerReport {
        if close {
            stopping = true
            for channel in channels { channel.close(promise: nil) }
            channels = []
        }
        let report = FanoutWorkerReport(
            subscribers: settings.subscribers, ready: summary.ready, connectErrors: summary.errors,
            errors: measuredErrors, delivered: delivered, outsideWindow: outsideWindow, snapshots: snapshots, subscribersByPhase: subscribersByPhase,
            bytesReceived: bytesReceived, frameKeys: frameKeys.sorted(), latenciesMicros: latencies)
        window = nil
        delivered = 0
        outsideWindow = 0
        frameKeys = []
        latencies = []
        return report
    }

    /// A short, stable description of a connection error (used as a counter key).
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "connect timeout"
            case .ioOnClosedChannel, .alreadyClosed: return "closed"
            default: break
            }
        }
        let text = "\(error)"
        return text.count > 80 ? String(text.prefix(80)) : text
    }
}

@available(*, unavailable)
extension FanoutSubscriberGroup: Sendable {}
