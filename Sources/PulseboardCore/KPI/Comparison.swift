/// What a value can be compared with: the window just before, the same window a calendar
/// month / quarter / year earlier, or an industry benchmark from `config/benchmarks.json`.
public enum ComparisonPeriod: String, Sendable, CaseIterable, Codable {
    case previousPeriod = "previous_period"
    case lastMonth = "last_month"
    case lastQuarter = "last_quarter"
    case lastYear = "last_year"
    case benchmark

    /// The local days `[first, last]` this period compares a window of those days with; nil
    /// for `benchmark`. Calendar shifts clamp the day of month (Mar 31 → Feb 28/29).
    public func shift(first: Int64, last: Int64) -> (first: Int64, last: Int64)? {
        switch self {
        case .previousPeriod:
            let length = last - first + 1
            return (first - length, last - length)
        case .lastMonth: return (LocalCalendar.adding(months: -1, to: first), LocalCalendar.adding(months: -1, to: last))
        case .lastQuarter: return (LocalCalendar.adding(months: -3, to: first), LocalCalendar.adding(months: -3, to: last))
        case .lastYear: return (LocalCalendar.adding(months: -12, to: first), LocalCalendar.adding(months: -12, to: last))
        case .benchmark: return nil
        }
    }
}

/// A value set against another: the other value, the change, and whether it is good news.
public struct Comparison: Sendable, Equatable {
    public enum Verdict: String, Sendable { case better, worse, same }

    public var other: Double
    public var change: Double
    /// nil when the other value is 0.
    public var changePercent: Double?
    public var verdict: Verdict

    /// Compares `value` with `other` for a metric where `higherIsBetter` says which way is good;
    /// changes under `samePercent` % are `same`.
    public init(value: Double, other: Double, higherIsBetter: Bool, samePercent: Double = 0.5) {
        self.other = other
        change = value - other
        changePercent = other != 0 ? change / abs(other) * 100 : nil
        let pct = changePercent ?? (change == 0 ? 0 : .infinity)
        if abs(pct) < samePercent || change == 0 {
            verdict = .same
        } else {
            verdict = (change > 0) == higherIsBetter ? .better : .worse
        }
    }
}
