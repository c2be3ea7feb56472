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
    public var flushEveryEvents = 1_000_000

    public init(history: History, dimensions: DimensionSet) {
        self.history = history
        var limits = IngestLimits()
        limits.maxBodyBytes = .max
        limits.maxEventsPerBatch = .max
        limits.maxFutureSeconds = 86_400
        self.decoder = EventDecoder(limits: limits, dimensions: dimensions)
    }

    /// Imports chunks of whole NDJSON lines from `next` under `importId`, calling `progress`
    /// after each chunk. `nowMs` bounds future timestamps.
    public func run(
        importId: String, nowMs: Int64, next: () throws -> [UInt8]?, progress: (Progress) -> Void = { _ in }
    ) throws -> Progress {
        var p = Progress()
        let done = history.importedEvents(importId)
        var batch = DecodedBatch()
        var sinceFlush = 0
        while var chunk = try next() {
            var lines = chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
            if chunk.last != UInt8(ascii: "\n") { lines += 1 }
            if p.lines + lines <= done {
                p.lines += lines
                p.skipped += lines
                progress(p)
                continue
            }
            if p.lines < done {
                // Resume inside this chunk: drop the lines already stored.
                let skip = done - p.lines
                var drop = skip
                var cut = 0
                while drop > 0, let nl = chunk[cut...].firstIndex(of: UInt8(ascii: "\n")) { cut = nl + 1; drop -= 1 }
                chunk.removeSubrange(0..<cut)
                p.skipped += skip
                p.lines = done
                lines -= skip
            }
            let result: Result<Void, BatchError> = chunk.withUnsafeBytes { bytes in
                Result { () throws(BatchError) in
                    try decoder.decode(bytes, format: .ndjson, nowMs: nowMs, into: &batch)
                    history.record(batch, bytes: bytes, arrivalMs: nowMs, importId: importId) { _ in true }
                }
            }
            if case .failure(let e) = result { throw HistoryError("line \(p.lines + 1) onwards: \(e.message)") }
            p.lines += lines
            p.events += batch.events.count
            p.rejected += batch.rejections.count
            sinceFlush += batch.events.count
            if sinceFlush >= flushEveryEvents {
                try history.flushImport(importId, events: p.lines, nowMs: nowMs)
                sinceFlush = 0
            }
            progress(p)
        }
        try history.flushImport(importId, events: p.lines, nowMs: nowMs)
        return p
    }
}
