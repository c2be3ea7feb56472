import NIOCore
import PulseboardCore

/// An endless supply of realistic ingest batches for tools that write many of them (such as
/// `pulseboard bench journal`): a pool of pre-generated `SyntheticTraffic` batches, each handed
/// out with fresh event ids and the given timestamp, so millions cost a copy each, not JSON
/// generation.
public struct SyntheticBodies: Sendable {
    private let pool: IngestBodyPool
    private var nextIndex = 0
    private var nextEventNumber: UInt64 = 0

    /// `count` pre-generated batches of `batchSize` events from `users` users.
    public init(batchSize: Int, users: Int, count: Int = 1024, seed: UInt64) throws {
        pool = try IngestBodyPool(batchSize: batchSize, users: users, count: count, seed: seed, nowMillis: 0)
    }

    /// Events per batch.
    public var batchSize: Int { pool.batchSize }

    /// Writes the next batch into `buffer` (cleared first), every event stamped `millis`.
    public mutating func next(atMillis millis: Int64, into buffer: inout ByteBuffer) {
        buffer.clear()
        pool.write(nextIndex, firstEventNumber: nextEventNumber, timestamp: pool.format.timestamp(millis: millis), into: &buffer)
        nextIndex = (nextIndex + 1) % pool.bodies.count
        nextEventNumber &+= UInt64(pool.batchSize)
    }
}
