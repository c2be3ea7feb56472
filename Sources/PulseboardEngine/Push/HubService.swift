import AsyncAlgorithms
import ServiceLifecycle

/// Drives the hub: a tick every 100 ms (each topic computes at its own `refresh_ms`; once a
/// second every connection gets its heartbeat and stall checks), and on graceful shutdown ends
/// every stream so shutdown is prompt.
public struct HubService: Service {
    let hub: Hub

    public init(hub: Hub) { self.hub = hub }

    public func run() async throws {
        for await _ in AsyncTimerSequence(interval: .milliseconds(100), clock: .continuous).cancelOnGracefulShutdown() {
            hub.tick()
        }
        hub.closeAll()
    }
}
