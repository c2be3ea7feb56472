/// The per-minute rates the anomaly detector watches, read from all-traffic rollups.
public enum AnomalyMetric: String, Sendable, CaseIterable {
    /// All events per minute; unusual in both directions.
    case events
    /// `chat_interaction` events per minute; unusual in both directions.
    case interactions
    /// `error_tracking` events per minute; only a rise is unusual.
    case errors

    /// The event type counted; nil for all events.
    public var eventType: EventType? {
        switch self {
        case .events: nil
        case .interactions: .chatInteraction
        case .errors: .errorTracking
        }
    }

    /// The rate in `rollup` (counts over its period).
    public func count(in rollup: Rollup) -> Double {
        Double(eventType.map { rollup[$0] } ?? rollup.events)
    }

    /// Whether a drop is an anomaly too.
    public var flagsDrops: Bool { self != .errors }

    public var label: String {
        switch self {
        case .events: "events per minute"
        case .interactions: "chat interactions per minute"
        case .errors: "errors per minute"
        }
    }
}

/// Anomaly detection on per-minute rates: a robust z-score of the last minute's count against
/// the same hour of the week in earlier weeks (median and MAD of their per-minute averages, so
/// one bad week, such as an outage, does not move the baseline). The spread adds the Poisson
/// variance of a one-minute count to the week-to-week spread, so quiet hours with a handful of
/// events per minute do not flag on noise. Severity by score.
public struct AnomalyDetector: Sendable {
    public struct Settings: Sendable, Equatable {
        public var metrics: [AnomalyMetric] = AnomalyMetric.allCases
        /// Earlier weeks read for the baseline of an hour of the week.
        public var baselineWeeks = 4
        /// Fewer weeks with data than this: no detection for that hour (still learning).
        public var minWeeks = 3
        /// |z| at or above: a warning; at or above `criticalZ`: critical.
        public var warningZ = 4.0
        public var criticalZ = 6.0
        /// Consecutive anomalous minutes before an alert fires.
        public var forMinutes = 1
        /// A baseline median below this (events per minute) is too quiet to judge minute by
        /// minute: that hour is skipped.
        public var minBaseline = 1.0
        /// The spread is at least this share of the median: four weeks can agree by chance,
        /// and week-to-week growth of a few percent is not an anomaly.
        public var spreadFloor = 0.1
        public init() {}
    }

    /// What a minute is compared with.
    public struct Baseline: Sendable, Equatable {
        /// Median and median absolute deviation of the per-minute averages of earlier weeks.
        public var median: Double
        public var mad: Double
        public var weeks: Int
        /// Smallest spread, as a share of the median.
        public var spreadFloor: Double

        /// The baseline of per-minute averages, one per earlier week with data.
        public init?(perMinute samples: [Double], minWeeks: Int, spreadFloor: Double = 0.1) {
            guard samples.count >= max(1, minWeeks) else { return nil }
            let m = AnomalyDetector.median(samples)
            median = m
            mad = AnomalyDetector.median(samples.map { abs($0 - m) })
            weeks = samples.count
            self.spreadFloor = spreadFloor
        }

        public init(median: Double, mad: Double, weeks: Int, spreadFloor: Double = 0) {
            self.median = median
            self.mad = mad
            self.weeks = weeks
            self.spreadFloor = spreadFloor
        }

        /// The robust z-score of a one-minute count:
        /// (x − median) / √(max(1.4826·MAD, floor·median)² + max(median, 1)).
        public func score(_ count: Double) -> Double {
            let spread = max(1.4826 * mad, spreadFloor * median)
            return (count - median) / (spread * spread + max(median, 1)).squareRoot()
        }
    }

    public var settings: Settings

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Observes the last minute's count of `metric` against its baseline (nil: still learning).
    public func observe(
        _ metric: AnomalyMetric, count: Double, baseline: Baseline?, nowMs: Int64, tracker: inout AlertTracker
    ) -> AlertTracker.Transition? {
        let id = "anomaly." + metric.rawValue
        guard let baseline, baseline.median >= settings.minBaseline else { return nil }
        let z = baseline.score(count)
        let directed = metric.flagsDrops ? abs(z) : z
        let breached = directed >= settings.warningZ
        let severity: AlertSeverity = directed >= settings.criticalZ ? .critical : .warning
        let high = z > 0
        let label = metric.label
        let limit = settings.warningZ
        return tracker.observe(
            id: id, value: count, breached: breached, recovered: directed < settings.warningZ - 1,
            forMs: Int64(max(0, settings.forMinutes - 1)) * 60_000, severity: severity, nowMs: nowMs, score: z
        ) {
            Alert(
                rule: id, kind: .anomaly, severity: severity,
                title: "Unusual \(label): \(high ? "far above" : "far below") this hour's baseline",
                condition: "\(label), |robust z| ≥ \(AlertRule.format(limit)) vs the same hour of the week",
                value: count, score: z, expected: baseline.median, startedMs: nowMs,
                recommendation: AlertRecommendation.text(for: metric, high: high))
        }
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
