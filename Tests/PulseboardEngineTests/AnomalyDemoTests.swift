import Foundation
import PulseboardCore
import PulseboardSQLite
import Testing
@testable import PulseboardEngine

/// The anomaly detector on the demo's own data: `--demo`'s seeded history as the baseline,
/// then a week of live minutes from the demo traffic model (its rate curve, type shares and
/// 90-second error bursts every 20 minutes). The bursts are the incidents it must find;
/// anything else it flags is a false positive.
@Suite struct AnomalyDemoTests {
    struct Outcome {
        var minutes = 0
        var flaggedOutsideIncidents = 0
        var falseAlerts = 0
        var bursts = 0
        var burstsAlerted = 0
    }

    @Test func findsTheDemoErrorBurstsWithFewFalsePositives() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Midnight UTC, so the seeded days end just before the simulated week starts.
        let start: Int64 = 1_790_035_200_000
        let clock = ManualClock(millis: start)
        let history = try History(
            configuration: HistoryConfiguration(), store: try SQLiteRollupStore(path: dir + "/history.sqlite"), dimensions: DimensionSet(),
            pricing: Pricing(perThousandTokens: [:], defaultPerThousandTokens: 0.002), logger: testLogger)
        let ingestor = try makeIngestor(directory: dir + "/journal", clock: clock, history: history)
        let demo = DemoTrafficService(ingestor: ingestor, historyDays: 35, logger: testLogger)
        demo.seed(history, demo.population())

        let settings = AnomalyDetector.Settings()
        let detector = AnomalyDetector(settings: settings)
        let baselines = BaselineCache()
        let traffic = SyntheticTraffic(seed: 1)
        var rng = SplitMix64(seed: 99)
        var tracker = AlertTracker()
        var o = Outcome()
        var alertedBurst = Set<Int64>()
        /// Binomial(n, p) by its normal approximation (n is in the thousands).
        func draw(_ n: Double, _ p: Double) -> Double { max(0, (n * p + (n * p * (1 - p)).squareRoot() * rng.normal()).rounded()) }

        for minute in 1...(7 * 1440) {
            let now = start + Int64(minute) * 60_000
            let events = (traffic.rate(atMillis: now - 30_000) * 60).rounded()
            // The share of the last minute spent in a burst (bursts start on the 20-minute mark).
            let burstSeconds = (0..<60).filter { traffic.inErrorBurst(atMillis: now - 60_000 + Int64($0) * 1000) }.count
            let f = Double(burstSeconds) / 60
            let counts: [AnomalyMetric: Double] = [
                .events: events, .interactions: draw(events, 0.45), .errors: draw(events, 0.015 * (1 - f) + 0.12 * f),
            ]
            // An incident is on while this minute or the one before overlapped a burst.
            let burstStart = (now - 60_000) / 1_200_000 * 1_200_000
            let incident = now - burstStart <= 180_000
            if burstSeconds == 60 { o.bursts += 1 }
            for metric in settings.metrics {
                let baseline = baselines.baseline(metric, atMillis: now - 30_000, history: history, settings: settings, logger: testLogger)
                if !incident, let b = baseline, b.median >= settings.minBaseline {
                    let z = b.score(counts[metric]!)
                    if (metric.flagsDrops ? abs(z) : z) >= settings.warningZ { o.flaggedOutsideIncidents += 1 }
                }
                if case .fired? = detector.observe(metric, count: counts[metric]!, baseline: baseline, nowMs: now, tracker: &tracker) {
                    if incident && metric == .errors {
                        if !alertedBurst.contains(burstStart) { o.burstsAlerted += 1; alertedBurst.insert(burstStart) }
                    } else {
                        o.falseAlerts += 1
                    }
                }
            }
            o.minutes += 1
        }
        let flagRate = Double(o.flaggedOutsideIncidents) / Double(o.minutes * settings.metrics.count)
        print("anomaly on demo data: \(o.minutes) minutes × 3 metrics, flagged outside incidents \(o.flaggedOutsideIncidents) (\(flagRate * 100) %), false alerts \(o.falseAlerts), bursts \(o.bursts), alerted \(o.burstsAlerted)")
        #expect(o.bursts >= 500, "a week has 504 bursts")
        // Bursts in quiet hours whose sampled baseline is under one error a minute are not
        // judged (min_baseline); the high_error_rate rule catches every burst anyway.
        #expect(Double(o.burstsAlerted) >= 0.6 * Double(o.bursts), "most error bursts alert")
        #expect(flagRate < 0.005, "under 0.5 % of normal minutes score past the warning level")
        #expect(Double(o.falseAlerts) < 0.05 * Double(o.burstsAlerted + o.falseAlerts), "under 5 % of alerts are false (seed 000's target)")
    }
}
