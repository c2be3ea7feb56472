import AsyncAlgorithms
import Logging
import PulseboardCore
import ServiceLifecycle

/// `--demo`: generates realistic traffic (seven event types, ~2,000 users with a daily rhythm,
/// lognormal response times, periodic error bursts) through the real ingest path, journal
/// included, so a newcomer sees live numbers at once. On an empty data directory it first
/// seeds `historyDays` of sampled history for the same users (one generated event weighted
/// for many, so history's volumes match the live traffic's): comparisons, trends and the
/// anomaly baseline are meaningful from the first minute.
public struct DemoTrafficService: Service {
    let ingestor: Ingestor
    let configuration: SyntheticTraffic.Configuration
    let seed: UInt64
    /// Days of history seeded on an empty history (0 = none).
    let historyDays: Int
    let logger: Logger

    public init(
        ingestor: Ingestor, configuration: SyntheticTraffic.Configuration = .init(), seed: UInt64 = 42, historyDays: Int = 0,
        logger: Logger
    ) {
        self.ingestor = ingestor
        self.configuration = configuration
        self.seed = seed
        self.historyDays = historyDays
        self.logger = logger
    }

    /// The demo's population: the same users, signups, churn and daily activity for the
    /// seeded history and for the live traffic (today is day `historyDays`).
    func population() -> SyntheticHistory {
        var settings = SyntheticHistory.Configuration()
        settings.days = max(1, historyDays)
        settings.users = configuration.users
        settings.eventsPerActiveDay = 3
        // The same growth whatever the span: 55 % of today's users joined in the last 400 days.
        settings.initialShare = 1 - 0.55 * Double(min(settings.days, 400)) / 400
        // Whole days before today; today fills with live traffic.
        settings.endMs = (ingestor.nowMillis() / 86_400_000) * 86_400_000 - 1
        return SyntheticHistory(configuration: settings)
    }

    /// Each seeded event stands for this many: live demo events per day over the history's.
    func weight(_ generator: SyntheticHistory) -> UInt64 {
        let today = generator.days
        let weekly = SyntheticTraffic.weekly(dayNumber: ingestor.nowMillis() / 86_400_000)
        let active = Double(max(1, generator.activeUsers(onDay: today).count)) / weekly
        let live = configuration.peakEventsPerSecond * SyntheticTraffic.meanDaily * 86_400
        return UInt64(max(1, (live / (active * generator.configuration.eventsPerActiveDay)).rounded()))
    }

    /// Generates `historyDays` days before today for the demo's users, through the importer,
    /// each event weighted so history's volumes match the live traffic's.
    func seed(_ history: History, _ population: SyntheticHistory) {
        var generator = population
        var importer = HistoryImporter(history: history, dimensions: ingestor.decoder.dimensions)
        importer.weight = weight(generator)
        let clock = ContinuousClock()
        let started = clock.now
        var day = 0
        var chunk: [UInt8] = []
        do {
            let p = try importer.run(importId: "demo-seed", nowMs: ingestor.nowMillis()) {
                guard day < generator.days else { return nil }
                chunk.removeAll(keepingCapacity: true)
                generator.appendDay(day, into: &chunk)
                day += 1
                return chunk
            }
            logger.info("demo history seeded", metadata: [
                "days": "\(historyDays)", "events": "\(p.events)", "weight": "\(importer.weight)", "elapsed": "\(clock.now - started)",
            ])
        } catch {
            logger.error("demo history seeding failed", metadata: ["error": "\(error)"])
        }
    }

    public func run() async throws {
        while !ingestor.isReady {
            try await Task.sleep(for: .milliseconds(100))
        }
        let population = population()
        if let history = ingestor.history, historyDays > 0, history.isEmpty {
            seed(history, population)
        }
        logger.info("demo traffic started", metadata: ["users": "\(configuration.users)", "peak_events_per_second": "\(configuration.peakEventsPerSecond)"])
        var traffic = SyntheticTraffic(configuration: configuration, seed: seed ^ UInt64(ingestor.nowMillis()))
        var today = -1
        var rng = SplitMix64(seed: seed)
        var carry = 0.0
        var body: [UInt8] = []
        body.reserveCapacity(16 * 1024)
        let tick = 0.25
        for await _ in AsyncTimerSequence(interval: .milliseconds(250), clock: .continuous).cancelOnGracefulShutdown() {
            let now = ingestor.nowMillis()
            if population.day(atMillis: now) != today {
                // Today's active users, as history's days have them.
                today = population.day(atMillis: now)
                traffic.userPool = population.activeUsers(onDay: today)
            }
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
