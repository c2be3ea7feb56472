import Foundation
import PulseboardCore

/// In-process measurement of decode + validate alone (no HTTP, no journal, no windows): the
/// floor the ingest path is built on.
public struct DecodeBenchmark: Sendable {
    /// One measurement.
    public struct Result: Sendable {
        public var events: Int
        public var bytes: Int
        public var seconds: Double
        public var eventsPerSecond: Double { Double(events) / seconds }
        public var megabytesPerSecond: Double { Double(bytes) / seconds / 1_000_000 }
    }

    public var batches: Int
    public var batchSize: Int

    public init(batches: Int = 20_000, batchSize: Int = 100) {
        self.batches = batches
        self.batchSize = batchSize
    }

    /// Decodes `batches` realistic batches (from a pool of 256) on one core.
    public func run() -> Result {
        var traffic = SyntheticTraffic(configuration: { var c = SyntheticTraffic.Configuration(); c.users = 50_000; return c }(), seed: 7)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let pool: [[UInt8]] = (0..<256).map { _ in
            var body: [UInt8] = []
            traffic.appendMixedBatch(into: &body, count: batchSize, atMillis: now)
            return body
        }
        let decoder = EventDecoder()
        var batch = DecodedBatch()
        var events = 0
        var bytes = 0
        let start = ContinuousClock.now
        for i in 0..<batches {
            let body = pool[i & 255]
            body.withUnsafeBytes { b in
                do { try decoder.decode(b, format: .json, nowMs: now, into: &batch) } catch { preconditionFailure("\(error)") }
            }
            events += batch.events.count
            bytes += body.count
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(events: events, bytes: bytes, seconds: seconds)
    }
}
