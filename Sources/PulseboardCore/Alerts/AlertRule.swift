/// A threshold alert from config (`config/alerts.json`): a live metric or a KPI, a condition
/// such as `> 0.05`, how long it must hold before the alert fires (`for`), and how far back past
/// the threshold the value must come before it resolves (`hysteresis`), so a value hovering at
/// the threshold does not flap.
public struct AlertRule: Sendable, Equatable {
    /// What the rule watches.
    public enum Source: Sendable, Equatable {
        /// A live-window metric (`{"metric": "error_rate", "window": "5m"}`).
        case metric(MetricQuery)
        /// A KPI over whole days of history (`{"kpi": "adoption_rate", "window": "7d"}`).
        case kpi(KPIQuery)
    }

    public enum Comparator: String, Sendable, CaseIterable {
        case above = ">", atLeast = ">=", below = "<", atMost = "<="
    }

    public var id: String
    public var title: String
    public var source: Source
    public var comparator: Comparator
    public var threshold: Double
    public var severity: AlertSeverity
    /// The condition must hold this long (ms) before the alert fires; 0 = at once.
    public var forMs: Int64
    /// The value must come back past `threshold ∓ hysteresis` to resolve.
    public var hysteresis: Double
    /// Values from fewer samples are ignored (neither fire nor resolve).
    public var minSamples: Int
    public var recommendation: String

    public init(
        id: String, title: String, source: Source, comparator: Comparator, threshold: Double, severity: AlertSeverity,
        forMs: Int64 = 0, hysteresis: Double = 0, minSamples: Int = 0, recommendation: String? = nil
    ) {
        self.id = id
        self.title = title
        self.source = source
        self.comparator = comparator
        self.threshold = threshold
        self.severity = severity
        self.forMs = forMs
        self.hysteresis = hysteresis
        self.minSamples = minSamples
        self.recommendation = recommendation ?? AlertRecommendation.text(for: source)
    }

    /// The metric or KPI name, with a non-default aggregation (`response_time_ms.p95`).
    public var subject: String {
        switch source {
        case .metric(let q): q.aggregation == q.metric.aggregations[0] ? q.metric.rawValue : q.metric.rawValue + "." + q.aggregation
        case .kpi(let q): q.kpi.rawValue
        }
    }

    /// `error_rate > 0.05`, as shown with the alert.
    public var condition: String { subject + " " + comparator.rawValue + " " + AlertRule.format(threshold) }

    /// A number as written in a condition (`0.05`, `3000`).
    public static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    /// Whether `value` meets the condition.
    public func breached(_ value: Double) -> Bool {
        switch comparator {
        case .above: value > threshold
        case .atLeast: value >= threshold
        case .below: value < threshold
        case .atMost: value <= threshold
        }
    }

    /// Whether `value` is back past the hysteresis band (a firing alert resolves).
    public func recovered(_ value: Double) -> Bool {
        switch comparator {
        case .above: value <= threshold - hysteresis
        case .atLeast: value < threshold - hysteresis
        case .below: value >= threshold + hysteresis
        case .atMost: value > threshold + hysteresis
        }
    }
}
