import AsyncAlgorithms
import ServiceLifecycle

/// Drives the hub: a tick every 100 ms (each topic computes at its own `refresh_ms`), SSE
/// heartbeats, and on graceful shutdown closes every subscription so streams end promptly.
public struct HubService: Service {
    let hub: Hub

    public init(hub: Hub) { self.hub = hub }

    public func run() async throws {
        let clock = ContinuousClock()
        var lastHeartbeat = clock.now
        let heartbeat = Duration.seconds(hub.configuration.heartbeatSeconds)
        for await _ in AsyncTimerSequence(interval: .milliseconds(100), clock: .continuous).cancelOnGracefulShutdown() {
            hub.tick()
            if clock.now - lastHeartbeat >= heartbeat {
                hub.heartbeat()
                lastHeartbeat = clock.now
            }
        }
        hub.closeAll()
    }
}
