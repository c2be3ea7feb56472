import AsyncAlgorithms
import Logging
import ServiceLifecycle

/// History's lifecycle: flushes closed arrival slots to the store every second, prunes rows
/// past retention hourly, and on graceful shutdown (after the HTTP server has stopped taking
/// events) writes everything still pending.
public struct HistoryFlushService: Service {
    let history: History
    let ingestor: Ingestor
    let logger: Logger

    public init(history: History, ingestor: Ingestor, logger: Logger) {
        self.history = history
        self.ingestor = ingestor
        self.logger = logger
    }

    public func run() async throws {
        var lastPrune: Int64? = nil
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            // Slots replayed from the journal are flushed once replay is done.
            guard ingestor.isReady else { continue }
            let now = ingestor.nowMillis()
            flush(now: now, everything: false)
            if lastPrune.map({ now - $0 >= 3_600_000 }) ?? true {
                lastPrune = now
                do { try history.prune(nowMs: now) } catch {
                    logger.error("history prune failed", metadata: ["error": "\(error)"])
                }
            }
        }
        if ingestor.isReady { flush(now: ingestor.nowMillis(), everything: true) }
        logger.info("history flushed", metadata: ["watermark_ms": "\(history.watermarkMs)"])
    }

    func flush(now: Int64, everything: Bool) {
        do {
            try history.flush(nowMs: now, everything: everything)
        } catch {
            logger.error("history flush failed; will retry", metadata: ["error": "\(error)"])
        }
    }
}
