import PulseboardCore

/// **Window insert**: folds one decoded 100-event batch into the live sliding-window
/// aggregates (`Aggregator`: the root series plus one series per tracked dimension value,
/// with distinct users, sessions and threads, sketches and buckets), exactly as the
/// `Ingestor` does under its lock: `prefetch` for the batch, then `record` per event.
///
/// Runs at a fixed second, after every key of the 256-batch pool has been seen once, so it
/// measures the steady state of a warm window (no bucket rotation, no table growth).
public final class WindowInsertWorkload: MicroWorkload {
    var aggregator: Aggregator
    let pool: [[UInt8]]
    let batches: [DecodedBatch]
    var next = 0

    public init() {
        let configuration = Fixtures.aggregation()
        aggregator = Aggregator(configuration: configuration, nowMs: Fixtures.nowMs)
        pool = Fixtures.batchPool()
        let decoder = EventDecoder(dimensions: configuration.dimensions)
        batches = pool.map { body in
            var batch = DecodedBatch()
            Fixtures.decode(body, with: decoder, into: &batch)
            return batch
        }
        for _ in 0..<pool.count { run() }
    }

    /// Series in the live windows (keeps the result observable).
    public var seriesCount: Int { aggregator.seriesCount }

    public func run() {
        let batch = batches[next]
        pool[next].withUnsafeBytes { bytes in
            for e in batch.events { aggregator.prefetch(e, batch: batch) }
            for e in batch.events { aggregator.record(e, batch: batch, bytes: bytes, arrivalMs: Fixtures.nowMs) }
        }
        next = (next + 1) % pool.count
    }
}
