import AsyncAlgorithms
import Logging
import PulseboardCore
import ServiceLifecycle

/// `--demo`: generates realistic traffic (seven event types, ~2,000 users with a daily rhythm,
/// lognormal response times, periodic error bursts) through the real ingest path, journal
/// included, so a newcomer sees live numbers at once.
public struct DemoTrafficService: Service {
    let ingestor: Ingestor
    let configuration: SyntheticTraffic.Configuration
    let seed: UInt64
    let logger: Logger

    public init(ingestor: Ingestor, configuration: SyntheticTraffic.Configuration = .init(), seed: UInt64 = 42, logger: Logger) {
        self.ingestor = ingestor
        self.configuration = configuration
        self.seed = seed
        self.logger = logger
    }

    public func run() async throws {
        while !ingestor.isReady {
            try await Task.sleep(for: .milliseconds(100))
        }
        logger.info("demo traffic started", metadata: ["users": "\(configuration.users)", "peak_events_per_second": "\(configuration.peakEventsPerSecond)"])
        var traffic = SyntheticTraffic(configuration: configuration, seed: seed ^ UInt64(ingestor.nowMillis()))
        var rng = SplitMix64(seed: seed)
        var carry = 0.0
        var body: [UInt8] = []
        body.reserveCapacity(16 * 1024)
        let tick = 0.25
        for await _ in AsyncTimerSequence(interval: .milliseconds(250), clock: .continuous).cancelOnGracefulShutdown() {
            let now = ingestor.nowMillis()
            carry += traffic.rate(atMillis: now) * tick
            var due = Int(carry)
            carry -= Double(due)
            while due > 0 {
                let n = min(due, 1 + Int(rng.next() % 6))
                due -= n
                body.removeAll(keepingCapacity: true)
                traffic.appendBatch(into: &body, count: n, atMillis: now)
                do throws(IngestError) {
                    _ = try ingestor.ingest(body, format: .json)
                } catch {
                    if error.code != .rateLimited {
                        logger.warning("demo batch refused", metadata: ["error": "\(error.message)"])
                    }
                }
            }
        }
    }
}
