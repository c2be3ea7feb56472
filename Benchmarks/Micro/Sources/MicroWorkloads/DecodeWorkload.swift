import PulseboardCore

/// **Event decode + validate**: one 100-event realistic JSON batch (mixed users, each event
/// with its own ids and context, as a backend service sends them) through `EventDecoder`,
/// the first thing every `POST /api/events` does. Cycles through 256 different batches;
/// the `DecodedBatch` is reused the way the ingest path reuses it, so the steady state is
/// expected to allocate nothing.
public final class DecodeWorkload: MicroWorkload {
    let decoder = EventDecoder()
    let pool: [[UInt8]]
    var batch = DecodedBatch()
    var next = 0
    /// Events decoded so far (keeps the result observable).
    public private(set) var eventsDecoded = 0

    public init() {
        pool = Fixtures.batchPool()
        // One pass so the reused batch's arrays reach their steady-state capacity.
        for _ in 0..<pool.count { run() }
        precondition(batch.events.count == Fixtures.batchSize && batch.rejections.isEmpty, "synthetic batch not fully valid")
    }

    public func run() {
        Fixtures.decode(pool[next], with: decoder, into: &batch)
        next = (next + 1) % pool.count
        eventsDecoded &+= batch.events.count
    }
}
