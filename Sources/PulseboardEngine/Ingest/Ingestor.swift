import Foundation
import Logging
import NIOConcurrencyHelpers
import PulseboardCore
import Synchronization

/// The ingest path and owner of the live windows: decodes a batch on the caller's thread (the
/// event loop), then deduplicates and rate-limits it under one short lock, journals it, and
/// folds it into the windows under another. No actor hop per event.
///
/// ```swift
/// let outcome = try body.withUnsafeReadableBytes { try ingestor.ingest($0, format: .json) }
/// if let p = outcome.journalPosition, policy == .durable { try await ingestor.journal.waitDurable(p) }
/// ```
public final class Ingestor: Sendable {
    /// What decides which events of a batch are accepted.
    struct Admission {
        var dedup: DedupSet
        var limiter: UserRateLimiter
        var lastMaintenanceSecond: Int64 = 0
        /// Keeps prefetch loads from being optimised away.
        var prefetchSink: UInt64 = 0
    }

    /// The live windows.
    struct Windows {
        var aggregator: Aggregator
    }

    public let configuration: IngestConfiguration
    public let journal: Journal
    public let telemetry: Telemetry
    /// Where accepted events also go, for KPIs and comparisons over days (nil: live windows only).
    public let history: History?
    let decoder: EventDecoder
    let clock: any WallClock
    // pthread mutexes: Synchronization.Mutex uses priority-inheritance futexes on Linux, whose
    // contended path measured several times slower under ingest load. Two of them, so one
    // event loop can admit a batch while the other folds one into the windows; where both
    // are needed, `admission` is taken first.
    let admission: NIOLockedValueBox<Admission>
    let windows: NIOLockedValueBox<Windows>
    let ready = Atomic<Bool>(false)
    /// Set at shutdown, before the checkpoint: later batches are refused.
    let sealed = Atomic<Bool>(false)
    /// Batches between their first check and their last fold (what `seal` waits for).
    let inFlight = Atomic<Int>(0)
    let logger: Logger
    /// Ids past the dedup horizon that the once-a-second upkeep drops at most (inserts drop
    /// the rest as they come), so upkeep never holds the lock for long.
    static let dedupExpiryPerSecond = 16_384

    public init(
        configuration: IngestConfiguration, aggregation: Aggregator.Configuration, journal: Journal,
        telemetry: Telemetry, clock: any WallClock, history: History? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.journal = journal
        self.history = history
        self.telemetry = telemetry
        self.clock = clock
        self.logger = logger
        self.decoder = EventDecoder(limits: configuration.limits, dimensions: aggregation.dimensions)
        let now = clock.nowMillis()
        self.admission = NIOLockedValueBox(Admission(
            dedup: DedupSet(horizonSeconds: Int64(configuration.dedupHorizonSeconds), maxIds: configuration.dedupMaxIds),
            limiter: UserRateLimiter(limitPerMinute: configuration.maxEventsPerUserPerMinute)))
        self.windows = NIOLockedValueBox(Windows(aggregator: Aggregator(configuration: aggregation, nowMs: now)))
    }

    /// Whether start-up replay has finished (ingest is refused until then).
    public var isReady: Bool { ready.load(ordering: .acquiring) }

    /// Marks replay as done.
    public func markReady() { ready.store(true, ordering: .releasing) }

    /// The current time of the injected clock.
    public func nowMillis() -> Int64 { clock.nowMillis() }

    /// Decodes, validates, deduplicates, journals and aggregates one request body.
    public func ingest(_ bytes: UnsafeRawBufferPointer, format: EventDecoder.Format) throws(IngestError) -> IngestOutcome {
        guard isReady else {
            throw IngestError(.notReady, "the journal is still being replayed; retry shortly", retryAfterSeconds: 1)
        }
        inFlight.wrappingAdd(1, ordering: .sequentiallyConsistent)
        defer { inFlight.wrappingSubtract(1, ordering: .sequentiallyConsistent) }
        guard !sealed.load(ordering: .sequentiallyConsistent) else {
            throw IngestError(.notReady, "the server is shutting down; retry against its successor", retryAfterSeconds: 1)
        }
        let now = clock.nowMillis()
        var batch = DecodedBatch()
        do {
            try decoder.decode(bytes, format: format, nowMs: now, into: &batch)
        } catch {
            throw IngestError(error.code == .tooManyEvents ? .tooManyEvents : .invalidBatch, error.message)
        }
        var outcome = IngestOutcome()
        outcome.rejected = batch.rejections
        let second = now >= 0 ? now / 1000 : (now - 999) / 1000
        let minute = second >= 0 ? second / 60 : (second - 59) / 60
        var mask = [UInt8](repeating: 0, count: (batch.total + 7) / 8)
        let journal = self.journal
        let limit = configuration.maxEventsPerUserPerMinute

        // 1. Under the admission lock: deduplicate and rate-limit, deciding which events are accepted.
        var inserted: [UInt64] = []
        let early: Int = admission.withLockedValue { s in
            var early = 0
            if second != s.lastMaintenanceSecond {
                s.lastMaintenanceSecond = second
                early = s.dedup.expire(now: second, limit: Ingestor.dedupExpiryPerSecond)
                s.limiter.sweep(minute: minute)
            }
            var sink: UInt64 = 0
            for e in batch.events { sink ^= s.dedup.touch(e.eventId) ^ s.limiter.touch(e.user.hash) }
            s.prefetchSink ^= sink
            for e in batch.events {
                if e.eventId != 0 {
                    guard s.dedup.insert(e.eventId, second: second) else {
                        outcome.duplicates += 1
                        continue
                    }
                    inserted.append(e.eventId)
                }
                guard s.limiter.allow(e.user.hash, minute: minute) else {
                    if e.eventId != 0 { s.dedup.rollback(e.eventId); inserted.removeLast() }
                    outcome.rateLimited += 1
                    outcome.rejected.append(Rejection(
                        index: Int(e.index), field: "user_id",
                        reason: "rate limited: more than \(limit) events this minute for this user (ingest.max_events_per_user_per_minute)"))
                    continue
                }
                mask[Int(e.index) >> 3] |= 1 << UInt8(e.index & 7)
                outcome.accepted += 1
            }
            return early
        }
        // 2. Outside it: the journal write (its own lock), so neither lock waits on I/O.
        var late = 0
        var historyOnly = 0
        if outcome.accepted > 0 {
            let appended: Result<UInt64, JournalError> = mask.withUnsafeBytes { m in
                Result { () throws(JournalError) in try journal.append(arrivalMs: now, format: format, mask: m, body: bytes) }
            }
            switch appended {
            case .success(let position): outcome.journalPosition = position
            case .failure(let error):
                admission.withLockedValue { s in for id in inserted.reversed() { s.dedup.rollback(id) } }
                throw IngestError(.journalFailure, "events could not be journaled (\(error.message)); nothing was kept", retryAfterSeconds: 5)
            }
            // 3. Under the windows lock: fold the accepted events in.
            (late, historyOnly) = windows.withLockedValue { s in
                s.aggregator.advance(toMillis: now)
                var late = 0
                var historyOnly = 0
                for e in batch.events { s.aggregator.prefetch(e, batch: batch) }
                for e in batch.events where mask[Int(e.index) >> 3] & (1 << UInt8(e.index & 7)) != 0 {
                    switch s.aggregator.record(e, batch: batch, bytes: bytes, arrivalMs: now) {
                    case .live: break
                    case .lateInWindow: late += 1
                    case .historyOnly: late += 1; historyOnly += 1
                    }
                }
                return (late, historyOnly)
            }
            history?.record(batch, bytes: bytes, arrivalMs: now) { i in mask[i >> 3] & (1 << UInt8(i & 7)) != 0 }
        }
        let counts = (late: late, historyOnly: historyOnly, early: early)
        if counts.early > 0 { telemetry.dedupEvictedEarly.add(UInt64(counts.early)) }
        telemetry.eventsAccepted.add(UInt64(outcome.accepted))
        telemetry.eventsDuplicate.add(UInt64(outcome.duplicates))
        telemetry.eventsRejected.add(UInt64(outcome.rejected.count - outcome.rateLimited))
        telemetry.eventsRateLimited.add(UInt64(outcome.rateLimited))
        telemetry.eventsLate.add(UInt64(counts.late))
        telemetry.eventsHistoryOnly.add(UInt64(counts.historyOnly))
        if outcome.accepted == 0 && outcome.rateLimited > 0 {
            throw IngestError(
                .rateLimited, "rate limit of \(limit) events per user per minute exceeded",
                retryAfterSeconds: Int(60 - second % 60))
        }
        return outcome
    }

    /// Ingests a body held in an array.
    public func ingest(_ body: [UInt8], format: EventDecoder.Format) throws(IngestError) -> IngestOutcome {
        let result: Result<IngestOutcome, IngestError> = body.withUnsafeBytes { p in
            Result { () throws(IngestError) in try ingest(p, format: format) }
        }
        return try result.get()
    }

    /// Answers a metric query from the live windows at the clock's current time.
    public func query(_ q: MetricQuery) throws(QueryError) -> QueryResult {
        let now = clock.nowMillis()
        let result: Result<QueryResult, QueryError> = windows.withLockedValue { s in
            s.aggregator.advance(toMillis: now)
            return Result { () throws(QueryError) in try s.aggregator.query(q) }
        }
        return try result.get()
    }

    /// Sizes for `/metrics`.
    public struct Stats: Sendable {
        public var windowMemoryBytes: Int
        public var series: Int
        public var dedupIds: Int
        public var dedupMemoryBytes: Int
        public var trackedUsers: Int
    }

    public func stats() -> Stats {
        let (dedupIds, dedupMemoryBytes) = admission.withLockedValue { ($0.dedup.count, $0.dedup.memoryBytes) }
        return windows.withLockedValue { s in
            Stats(
                windowMemoryBytes: s.aggregator.memoryBytes, series: s.aggregator.seriesCount,
                dedupIds: dedupIds, dedupMemoryBytes: dedupMemoryBytes,
                trackedUsers: s.aggregator.root.users.trackedKeys)
        }
    }

    // MARK: - Checkpoint

    /// What a checkpoint must have been written under to be restored here.
    public var checkpointFingerprint: String {
        windows.withLockedValue { $0.aggregator.snapshotFingerprint }
            + "; dedup \(configuration.dedupHorizonSeconds) s/\(configuration.dedupMaxIds) ids by second"
            + "; rate \(configuration.maxEventsPerUserPerMinute)/min"
    }

    /// Refuses later batches and waits until those already past their first check are folded
    /// in, so a checkpoint taken next holds every event the journal holds. Graceful shutdown only.
    public func seal() {
        sealed.store(true, ordering: .sequentiallyConsistent)
        while inFlight.load(ordering: .sequentiallyConsistent) > 0 { usleep(200) }
    }

    /// Encodes the windows, the dedup set and the limiter as they are now. `segment` is the
    /// journal segment being written (sequence and size), which the checkpoint then covers.
    public func checkpoint(segment: (sequence: UInt64, bytes: Int)) -> WindowCheckpoint {
        let fingerprint = checkpointFingerprint
        let payload: [UInt8] = admission.withLockedValue { a in
            windows.withLockedValue { s in
                var w = SnapshotWriter(reservingCapacity: s.aggregator.memoryBytes + a.dedup.memoryBytes + 1 << 20)
                s.aggregator.write(to: &w)
                a.dedup.write(to: &w)
                a.limiter.write(to: &w)
                return w.bytes
            }
        }
        return WindowCheckpoint(
            segmentSequence: segment.sequence, segmentBytes: segment.bytes, takenAtMs: clock.nowMillis(),
            fingerprint: fingerprint, payload: payload)
    }

    /// Replaces the windows, the dedup set and the limiter with a checkpoint's (before replay).
    public func restore(_ checkpoint: WindowCheckpoint) throws(SnapshotError) {
        guard checkpoint.fingerprint == checkpointFingerprint else { throw SnapshotError("written under other settings") }
        let configuration = windows.withLockedValue { $0.aggregator.configuration }
        let (horizon, maxIds, rate) = (Int64(self.configuration.dedupHorizonSeconds), self.configuration.dedupMaxIds, self.configuration.maxEventsPerUserPerMinute)
        let result: Result<(Admission, Windows), SnapshotError> = checkpoint.payload.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) in
                var r = SnapshotReader(raw)
                let windows = Windows(aggregator: try Aggregator(configuration: configuration, snapshot: &r))
                var admission = Admission(dedup: DedupSet(horizonSeconds: horizon, maxIds: maxIds), limiter: UserRateLimiter(limitPerMinute: rate))
                try admission.dedup.read(&r)
                try admission.limiter.read(&r)
                guard r.remaining == 0 else { throw SnapshotError("\(r.remaining) bytes left over after the limiter") }
                return (admission, windows)
            }
        }
        let (restoredAdmission, restoredWindows) = try result.get()
        admission.withLockedValue { a in
            a = restoredAdmission
            windows.withLockedValue { s in
                s = restoredWindows
                s.aggregator.advance(toMillis: clock.nowMillis())
            }
        }
    }

    // MARK: - Replay

    /// Replays journal segments into the windows and the dedup set. Each record is decoded with its
    /// arrival time, so validation, late classification and placement match the original run.
    /// Segments up to `coveredSequence` are already in the windows (a restored checkpoint): their
    /// records only go to history, and only those that arrived after its watermark.
    ///
    /// Two stages, so a restart uses both cores: this thread reads and decodes records while a
    /// serial queue folds the decoded ones into the windows, the dedup set and history, in order
    /// (at most `ReplayFolder.depth` chunks behind). Records stay in their segment's bytes.
    public func replay(
        _ segments: [Journal.Segment], coveredSequence: UInt64 = 0, progress: (JournalReader.Summary, Int) -> Void = { _, _ in }
    ) throws -> (JournalReader.Summary, events: Int) {
        var limits = IngestLimits()
        limits.maxBodyBytes = .max
        limits.maxEventsPerBatch = .max
        limits.maxProperties = .max
        limits.maxPropertiesBytes = .max
        limits.maxFutureSeconds = 1_000_000_000
        limits.maxIdBytes = .max
        let replayDecoder = EventDecoder(limits: limits, dimensions: decoder.dimensions)
        let reader = JournalReader(logger: logger)
        let historyWatermark = history?.watermarkMs ?? .max
        let folder = ReplayFolder(ingestor: self, nowMs: clock.nowMillis(), historyWatermark: historyWatermark)
        var chunk = ReplayFolder.Chunk()
        var events = 0
        var running = JournalReader.Summary()
        let summary = try reader.readKeepingSegments(segments) { record, sequence, data, base in
            running.records += 1
            let windows = sequence > coveredSequence
            if !windows && record.arrivalMs < historyWatermark { return }
            var batch = DecodedBatch()
            do throws(BatchError) {
                try replayDecoder.decode(record.body, format: record.format, nowMs: record.arrivalMs, into: &batch)
            } catch {
                logger.warning("journal record no longer decodes; skipped", metadata: ["error": "\(error.message)"])
                return
            }
            var count = 0
            for e in batch.events where record.accepted(Int(e.index)) { count += 1 }
            if chunk.base != Int(bitPattern: base) || chunk.records.count == ReplayFolder.Chunk.capacity {
                if !chunk.records.isEmpty { folder.submit(chunk) }
                chunk = ReplayFolder.Chunk(segment: data, base: base, windows: windows)
            }
            chunk.append(record, batch: batch)
            events += count
            telemetry.replayedEvents.add(UInt64(count))
            if running.records % 20_000 == 0 { progress(running, events) }
        }
        if !chunk.records.isEmpty { folder.submit(chunk) }
        folder.finish()
        return (summary, events)
    }

    /// Folds one decoded journal record into the windows and the dedup set (unless a checkpoint
    /// already holds it: `windows` false) and into history (replay's second stage).
    fileprivate func fold(_ record: JournalRecord.View, _ batch: DecodedBatch, windows: Bool, nowMs: Int64, historyWatermark: Int64) {
        let arrivalSecond = record.arrivalMs / 1000
        if windows {
            admission.withLockedValue { a in
                var sink: UInt64 = 0
                for e in batch.events { sink ^= a.dedup.touch(e.eventId) }
                a.prefetchSink ^= sink
                for e in batch.events where record.accepted(Int(e.index)) && e.eventId != 0 {
                    _ = a.dedup.insert(e.eventId, second: arrivalSecond)
                }
            }
            self.windows.withLockedValue { s in
                s.aggregator.advance(toMillis: nowMs)
                for e in batch.events { s.aggregator.prefetch(e, batch: batch) }
                for e in batch.events where record.accepted(Int(e.index)) {
                    s.aggregator.record(e, batch: batch, bytes: record.body, arrivalMs: record.arrivalMs)
                }
            }
        }
        if let history, record.arrivalMs >= historyWatermark {
            history.record(batch, bytes: record.body, arrivalMs: record.arrivalMs) { record.accepted($0) }
        }
    }

    /// Ends a replay: expires what the dedup horizon no longer covers.
    fileprivate func finishReplay(nowMs: Int64) {
        admission.withLockedValue { s in _ = s.dedup.expire(now: nowMs / 1000) }
    }
}

/// Replay's second stage: a serial queue that folds chunks of decoded records into the ingestor
/// in order, at most `depth` chunks behind the decoding thread.
private final class ReplayFolder: Sendable {
    /// Decoded records of one segment, kept as offsets into the segment's bytes.
    struct Chunk: Sendable {
        static let capacity = 64

        struct Record: Sendable {
            var arrivalMs: Int64
            var format: EventDecoder.Format
            var mask: Range<Int>
            var body: Range<Int>
            var batch: DecodedBatch
        }

        var segment = Data()
        /// Whether the records go to the windows (false: to history only).
        var windows = true
        /// Address of the segment's first byte while the reader had it: only compared and used
        /// to turn the reader's buffers into offsets, never dereferenced.
        var base = 0
        var records: [Record] = []

        init() {}

        init(segment: Data, base: UnsafeRawPointer, windows: Bool) {
            self.segment = segment
            self.windows = windows
            self.base = Int(bitPattern: base)
            records.reserveCapacity(Self.capacity)
        }

        mutating func append(_ view: JournalRecord.View, batch: DecodedBatch) {
            let start = base
            func range(_ b: UnsafeRawBufferPointer) -> Range<Int> {
                let lower = b.baseAddress.map { Int(bitPattern: $0) - start } ?? 0
                return lower..<(lower + b.count)
            }
            records.append(Record(arrivalMs: view.arrivalMs, format: view.format, mask: range(view.mask), body: range(view.body), batch: batch))
        }
    }

    static let depth = 4

    let ingestor: Ingestor
    let nowMs: Int64
    let historyWatermark: Int64
    let queue = DispatchQueue(label: "pulseboard.replay")
    let slots = DispatchSemaphore(value: ReplayFolder.depth)

    init(ingestor: Ingestor, nowMs: Int64, historyWatermark: Int64) {
        self.ingestor = ingestor
        self.nowMs = nowMs
        self.historyWatermark = historyWatermark
    }

    /// Queues a chunk; blocks while `depth` chunks are waiting.
    func submit(_ chunk: Chunk) {
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            chunk.segment.withUnsafeBytes { raw in
                for r in chunk.records {
                    let view = JournalRecord.View(
                        arrivalMs: r.arrivalMs, format: r.format, mask: UnsafeRawBufferPointer(rebasing: raw[r.mask]),
                        body: UnsafeRawBufferPointer(rebasing: raw[r.body]))
                    ingestor.fold(view, r.batch, windows: chunk.windows, nowMs: nowMs, historyWatermark: historyWatermark)
                }
            }
        }
    }

    /// Waits until every queued chunk is folded.
    func finish() {
        queue.sync {}
        ingestor.finishReplay(nowMs: nowMs)
    }
}
