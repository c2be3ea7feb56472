import AsyncAlgorithms
import Logging
import ServiceLifecycle

/// The journal's lifecycle as a service: restores the window checkpoint and replays the journal
/// after it at start-up (then `/ready` turns 200), deletes expired segments hourly, and on
/// graceful shutdown, after the HTTP server has stopped taking events, fsyncs and closes the
/// journal and writes a new checkpoint.
public struct JournalService: Service {
    let ingestor: Ingestor
    /// Segments last written within this many seconds are replayed (the longest live window or
    /// the dedup horizon, whichever is longer).
    let replayHorizonSeconds: Int
    /// Where the window checkpoint lives (nil: none; every start replays the journal).
    let checkpointPath: String?
    let logger: Logger

    public init(ingestor: Ingestor, replayHorizonSeconds: Int, checkpointPath: String? = nil, logger: Logger) {
        self.ingestor = ingestor
        self.replayHorizonSeconds = replayHorizonSeconds
        self.checkpointPath = checkpointPath
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
        saveCheckpoint()
    }

    /// Restores the checkpoint if it fits this journal and these settings; returns the last
    /// segment it covers (0: none).
    func restoreCheckpoint() -> UInt64 {
        guard let checkpointPath else { return 0 }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            guard let checkpoint = try WindowCheckpoint.load(from: checkpointPath, fingerprint: ingestor.checkpointFingerprint) else { return 0 }
            let segment = ingestor.journal.previousSegments.first { $0.sequence == checkpoint.segmentSequence }
            guard let segment, segment.bytes == checkpoint.segmentBytes else {
                logger.warning("window checkpoint not used: the journal segment it covers is gone or has changed; replaying the journal", metadata: [
                    "segment": "\(checkpoint.segmentSequence)", "bytes": "\(checkpoint.segmentBytes)",
                    "found_bytes": "\(segment.map { "\($0.bytes)" } ?? "none")",
                ])
                return 0
            }
            try ingestor.restore(checkpoint)
            logger.info("window checkpoint restored", metadata: [
                "segment": "\(checkpoint.segmentSequence)", "bytes": "\(checkpoint.payload.count)",
                "taken_at_ms": "\(checkpoint.takenAtMs)", "elapsed": "\(clock.now - started)",
            ])
            return checkpoint.segmentSequence
        } catch {
            logger.warning("window checkpoint not used; replaying the journal", metadata: ["path": "\(checkpointPath)", "reason": "\(error)"])
            return 0
        }
    }

    /// At graceful shutdown: stops ingest, closes the journal and writes the windows with the
    /// segment they cover. A failure only costs the next start a longer replay.
    func saveCheckpoint() {
        guard let checkpointPath else { return }
        ingestor.seal()
        ingestor.journal.close()
        // Windows half rebuilt (stopped during replay) are not worth keeping.
        guard ingestor.isReady else { return }
        let clock = ContinuousClock()
        let started = clock.now
        let checkpoint = ingestor.checkpoint(segment: ingestor.journal.currentSegment)
        do {
            try checkpoint.save(to: checkpointPath)
            logger.info("window checkpoint written", metadata: [
                "path": "\(checkpointPath)", "segment": "\(checkpoint.segmentSequence)",
                "bytes": "\(checkpoint.payload.count)", "elapsed": "\(clock.now - started)",
            ])
        } catch {
            logger.error("window checkpoint not written; the next start replays the journal", metadata: ["error": "\(error)"])
        }
    }

    /// Restores the checkpoint, replays what it does not cover and marks the ingestor ready.
    func replay() {
        let now = ingestor.nowMillis()
        let covered = restoreCheckpoint()
        // The live windows need the last day after the checkpoint; history needs everything
        // after its watermark.
        let watermark = ingestor.history?.watermarkMs ?? .max
        let cutoff = min(now - Int64(replayHorizonSeconds) * 1000 - 60_000, watermark)
        let segments = ingestor.journal.previousSegments.filter {
            $0.sequence > covered ? $0.modifiedMs >= cutoff : $0.modifiedMs >= watermark
        }
        let bytes = segments.reduce(0) { $0 + $1.bytes }
        logger.info("replaying journal", metadata: [
            "segments": "\(segments.count)", "bytes": "\(bytes)", "covered_by_checkpoint": "\(covered)",
        ])
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let (summary, events) = try ingestor.replay(segments, coveredSequence: covered) { progress, events in
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
