import AsyncAlgorithms
import Logging
import ServiceLifecycle
import UnixSignals

/// Hot reload: notices edits in the dashboards directory within a second (and reloads at once on
/// SIGHUP). Valid edits go live, live topics switch to them; invalid ones keep the last good
/// version and their errors are logged and served at `/api/dashboards/:id/errors`.
public struct DashboardReloadService: Service {
    let store: DashboardStore
    let hub: Hub
    let logger: Logger

    public init(store: DashboardStore, hub: Hub, logger: Logger) {
        self.store = store
        self.hub = hub
        self.logger = logger
    }

    public func run() async throws {
        let initial = store.fingerprint()
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in signals.cancelOnGracefulShutdown() {
                    logger.info("SIGHUP: reloading dashboards")
                    apply(store.load())
                }
            }
            group.addTask {
                var seen = initial
                for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
                    let now = store.fingerprint()
                    guard now != seen else { continue }
                    seen = now
                    apply(store.load())
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    func apply(_ changed: [String]) {
        for id in changed {
            hub.update(dashboard: id, spec: store.entry(id)?.spec)
            logger.info("dashboard reloaded", metadata: ["id": "\(id)", "live": "\(store.entry(id)?.spec != nil)"])
        }
    }
}
