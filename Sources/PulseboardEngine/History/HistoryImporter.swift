import Dispatch
import Foundation
import NIOConcurrencyHelpers
import PulseboardCore

/// Backfills history from NDJSON events with their own timestamps (`pulseboard replay`,
/// `POST /api/history/import`, `--demo` seeding). Events go to history only, not to the
/// journal or the live windows. Progress is committed with the rows every
/// `flushEveryEvents`, per import id, so an interrupted import resumes where it stopped and a
/// finished one is not counted twice.
public struct HistoryImporter: Sendable {
    /// Progress so far.
    public struct Progress: Sendable {
        public var lines = 0
        public var events = 0
        public var rejected = 0
        /// Lines skipped because an earlier run of the same import already stored them.
        public var skipped = 0
    }

    public let history: History
    let decoder: EventDecoder
    public var flushEveryEvents = 2_000_000
    /// Each imported event counts this many times (sampled history, as `--demo` seeds it).
    public var weight: UInt64 = 1

    public init(history: History, dimensions: DimensionSet) {
        self.history = history
        var limits = IngestLimits()
        limits.maxBodyBytes = .max
        limits.maxEventsPerBatch = .max
        limits.maxFutureSeconds = 86_400
        // History has no use for event, session and thread ids: not hashing them saves time.
        self.decoder = EventDecoder(limits: limits, dimensions: dimensions, hashesIds: false)
    }

    /// Lines in `bytes`, a last one without a newline included (libc's vectorised `memchr`).
    static func countLines(_ b: UnsafeRawBufferPointer) -> Int {
        guard var p = b.baseAddress, b.count > 0 else { return 0 }
        let end = p + b.count
        var n = 0
        while p < end, let nl = memchr(p, 0x0A, end - p) {
            n += 1
            p = UnsafeRawPointer(nl) + 1
        }
        return n + (b[b.count - 1] == 0x0A ? 0 : 1)
    }

    /// The offset just past the `lines`-th newline of `b` (or its end).
    static func offset(afterLines lines: Int, in b: UnsafeRawBufferPointer) -> Int {
        guard let base = b.baseAddress else { return 0 }
        var p = base
        let end = base + b.count
        var left = lines
        while left > 0, p < end, let nl = memchr(p, 0x0A, end - p) {
            p = UnsafeRawPointer(nl) + 1
            left -= 1
        }
        return left > 0 ? b.count : p - base
    }

    /// `run(importId:nowMs:nextChunk:progress:)` over byte arrays.
    public func run(
        importId: String, nowMs: Int64, next: () throws -> [UInt8]?, progress: (Progress) -> Void = { _ in }
    ) throws -> Progress {
        try run(importId: importId, nowMs: nowMs, nextChunk: { try next().map(NDJSONChunk.init) }, progress: progress)
    }

    /// Imports chunks of whole NDJSON lines from `nextChunk` under `importId`, calling
    /// `progress` after each chunk. `nowMs` bounds future timestamps.
    ///
    /// Three stages: this thread reads and decodes chunk N + 1 while a serial queue folds
    /// chunk N into history (at most two chunks behind) and another writes each commit to the
    /// store (progress with the rows it covers, in order).
    public func run(
        importId: String, nowMs: Int64, nextChunk: () throws -> NDJSONChunk?, progress: (Progress) -> Void = { _ in }
    ) throws -> Progress {
        var p = Progress()
        let done = history.importedEvents(importId)
        let recorder = ImportRecorder(history: history, importId: importId, nowMs: nowMs, weight: weight)
        defer { try? recorder.finish() }
        var sinceFlush = 0
        while var chunk = try nextChunk() {
            if p.lines < done {
                // Resuming: skip the lines an earlier run already stored.
                let lines = chunk.withUnsafeBytes(HistoryImporter.countLines)
                if p.lines + lines <= done {
                    p.lines += lines
                    p.skipped += lines
                    progress(p)
                    continue
                }
                let skip = done - p.lines
                chunk.removeFirst(chunk.withUnsafeBytes { HistoryImporter.offset(afterLines: skip, in: $0) })
                p.skipped += skip
                p.lines = done
            }
            var batch = DecodedBatch()
            let result: Result<Void, BatchError> = chunk.withUnsafeBytes { bytes in
                Result { () throws(BatchError) in try decoder.decode(bytes, format: .ndjson, nowMs: nowMs, into: &batch) }
            }
            if case .failure(let e) = result { throw HistoryError("line \(p.lines + 1) onwards: \(e.message)") }
            p.lines += batch.lines
            p.events += batch.events.count
            p.rejected += batch.rejections.count
            sinceFlush += batch.events.count
            let flush = sinceFlush >= flushEveryEvents
            if flush { sinceFlush = 0 }
            try recorder.submit(chunk, batch, commitLines: flush ? p.lines : nil)
            progress(p)
        }
        try recorder.submit(NDJSONChunk([]), DecodedBatch(), commitLines: p.lines)
        try recorder.finish()
        return p
    }
}

/// The later stages of an import: folds decoded chunks into history on a serial queue, and
/// writes each commit's rows on another, so recording goes on while the disk works. Progress
/// is committed with the rows it covers, in order.
final class ImportRecorder: @unchecked Sendable {
    // @unchecked: `failure` is guarded by `lock`; everything else is immutable.
    let history: History
    let importId: String
    let nowMs: Int64
    let weight: UInt64
    let queue = DispatchQueue(label: "pulseboard.import")
    let writer = DispatchQueue(label: "pulseboard.import.write")
    let slots = DispatchSemaphore(value: 2)
    let lock = NIOLock()
    var failure: (any Error)?

    init(history: History, importId: String, nowMs: Int64, weight: UInt64) {
        self.history = history
        self.importId = importId
        self.nowMs = nowMs
        self.weight = weight
    }

    /// Queues a chunk (blocks while two are waiting); throws an earlier stage failure.
    func submit(_ chunk: NDJSONChunk, _ batch: DecodedBatch, commitLines: Int?) throws {
        if let e = lock.withLock({ failure }) { throw e }
        slots.wait()
        queue.async { [self] in
            defer { slots.signal() }
            guard lock.withLock({ failure == nil }) else { return }
            chunk.withUnsafeBytes { bytes in
                history.record(batch, bytes: bytes, arrivalMs: nowMs, importId: importId, weight: weight) { _ in true }
            }
            if let lines = commitLines {
                history.flushImport(importId, events: lines, nowMs: nowMs) { [self] write in
                    writer.async { [self] in
                        do { try write() } catch { lock.withLock { if failure == nil { failure = error } } }
                    }
                }
            }
        }
    }

    /// Waits for everything queued and written; throws a failure of a later stage.
    func finish() throws {
        queue.sync {}
        writer.sync {}
        if let e = lock.withLock({ failure }) { throw e }
    }
}
