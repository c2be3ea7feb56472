import AsyncAlgorithms
import Logging
import ServiceLifecycle

/// The journal's lifecycle as a service: replays recent segments into the windows at start-up
/// (then `/ready` turns 200), deletes expired segments hourly, and on graceful shutdown fsyncs
/// and closes the journal after the HTTP server has stopped taking events.
public struct JournalService: Service {
    let ingestor: Ingestor
    /// Segments last written within this many seconds are replayed (the longest live window or
    /// the dedup horizon, whichever is longer).
    let replayHorizonSeconds: Int
    let logger: Logger

    public init(ingestor: Ingestor, replayHorizonSeconds: Int, logger: Logger) {
        self.ingestor = ingestor
        self.replayHorizonSeconds = replayHorizonSeconds
        self.logger = logger
    }

    public func run() async throws {
        let journal = ingestor.journal
        defer { journal.close() }
        replay()
        retain()
        for await _ in AsyncTimerSequence(interval: .seconds(3600), clock: .continuous).cancelOnGracefulShutdown() {
            retain()
        }
    }

    /// Replays what the live windows need and marks the ingestor ready.
    func replay() {
        let now = ingestor.nowMillis()
        // The live windows need the last day; history needs everything after its watermark.
        let cutoff = min(now - Int64(replayHorizonSeconds) * 1000 - 60_000, ingestor.history?.watermarkMs ?? .max)
        let segments = ingestor.journal.previousSegments.filter { $0.modifiedMs >= cutoff }
        let bytes = segments.reduce(0) { $0 + $1.bytes }
        logger.info("replaying journal", metadata: ["segments": "\(segments.count)", "bytes": "\(bytes)"])
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let (summary, events) = try ingestor.replay(segments) { progress, events in
                logger.info("replay progress", metadata: [
                    "records": "\(progress.records)", "events": "\(events)",
                    "elapsed": "\(clock.now - started)",
                ])
            }
            logger.info("journal replayed", metadata: [
                "segments": "\(summary.segments)", "records": "\(summary.records)", "events": "\(events)",
                "truncated_bytes": "\(summary.truncatedBytes)", "elapsed": "\(clock.now - started)",
            ])
        } catch {
            logger.error("journal replay stopped early", metadata: ["error": "\(error)"])
        }
        ingestor.markReady()
    }

    func retain() {
        let days = ingestor.journal.configuration.retentionDays
        let cutoff = ingestor.nowMillis() - Int64(days) * 86_400_000
        let removed = ingestor.journal.deleteSegments(olderThan: cutoff)
        if removed > 0 { logger.info("journal retention", metadata: ["deleted_segments": "\(removed)", "raw_days": "\(days)"]) }
    }
}
