import ServiceLifecycle

/// Drives the hub: it sleeps until the next topic is due (each topic computes at its own
/// `refresh_ms`), and at most 100 ms, so once a second every connection gets its heartbeat and
/// stall checks. Waking at the due time, not on a fixed 100 ms beat, keeps a frame from waiting
/// up to a beat after its refresh. On graceful shutdown it ends every stream, so shutdown is
/// prompt.
public struct HubService: Service {
    let hub: Hub

    public init(hub: Hub) { self.hub = hub }

    public func run() async throws {
        let hub = self.hub
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                hub.tick()
                let now = hub.nowMillis()
                let wait = min(max((hub.nextDueMillis() ?? now + 100) - now, 1), 100)
                try await Task.sleep(for: .milliseconds(wait), tolerance: .milliseconds(1), clock: .continuous)
            }
        }
        hub.closeAll()
    }
}
