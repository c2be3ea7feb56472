/// Evaluates KPIs, comparisons and trends over a `DailyHistory`. Pure: the caller fetches
/// the days once per frame and every value, comparison and sparkline is read from them.
public struct KPIEvaluator: Sendable {
    public var history: DailyHistory
    /// Benchmark values per KPI (`config/benchmarks.json`).
    public var benchmarks: [KPI: Double]

    public init(history: DailyHistory, benchmarks: [KPI: Double] = [:]) {
        self.history = history
        self.benchmarks = benchmarks
    }

    /// The KPI over days `[first, last]`.
    public func value(_ kpi: KPI, first: Int64, last: Int64) -> KPIValue {
        value(kpi, first: first, last: last, rollup: history.rollup(first, last))
    }

    /// The KPI over days `[first, last]`, whose merged rollup is `rollup`.
    func value(_ kpi: KPI, first: Int64, last: Int64, rollup: Rollup) -> KPIValue {
        var input = KPIInput(rollup: rollup, knownUsers: history.knownUsers)
        switch kpi {
        case .dau, .wau, .mau:
            let span: Int64 = kpi == .dau ? 1 : kpi == .wau ? 7 : 30
            if let a = history.activeUsers(last - span + 1, last) {
                input.activeUsers = a.count
                input.activeUsersRelativeError = a.relativeError
            }
        case .activeUsers, .adoptionRate:
            if let a = history.activeUsers(first, last) {
                input.activeUsers = a.count
                input.activeUsersRelativeError = a.relativeError
            }
        case .userGrowth, .churnRate:
            let length = last - first + 1
            if let cur = history.union(first, last), let prev = history.union(first - length, last - length) {
                input.activeUsers = cur.count
                input.previousActiveUsers = prev.count
                input.churnedUsers = prev.subtracting(cur).count
            } else if kpi == .userGrowth, let cur = history.activeUsers(first, last),
                      let prev = history.activeUsers(first - length, last - length) {
                input.activeUsers = cur.count
                input.previousActiveUsers = prev.count
            }
        default:
            break
        }
        return kpi.evaluate(input)
    }

    /// The KPI for the same window in another period (nil value when that period has no data).
    /// `current` is the window's own value when the caller has it already.
    public func comparison(
        _ kpi: KPI, period: ComparisonPeriod, first: Int64, last: Int64, current known: KPIValue? = nil
    ) -> (other: KPIValue, comparison: Comparison?) {
        let current = known ?? value(kpi, first: first, last: last)
        var other = KPIValue(value: nil, n: 0)
        if period == .benchmark {
            other = KPIValue(value: benchmarks[kpi], n: 0)
        } else if let (f, l) = period.shift(first: first, last: last), l >= history.firstDay {
            // A period with no events at all predates the data: no value rather than a zero.
            let rollup = history.rollup(f, l)
            if rollup.events > 0 { other = value(kpi, first: f, last: l, rollup: rollup) }
        }
        guard let v = current.value, let o = other.value else { return (other, nil) }
        return (other, Comparison(value: v, other: o, higherIsBetter: kpi.higherIsBetter))
    }

    /// The KPI per day over the `days` days ending on `lastDay` (one-day windows; rolling for
    /// WAU/MAU), oldest first, and its fitted trend.
    public func trend(_ kpi: KPI, days: Int, lastDay: Int64) -> (daily: [(day: Int64, value: Double?)], trend: Trend) {
        var daily: [(Int64, Double?)] = []
        daily.reserveCapacity(days)
        for d in (lastDay - Int64(days) + 1)...lastDay {
            daily.append((d, value(kpi, first: d, last: d).value))
        }
        return (daily, Trend.fit(daily.map(\.1)))
    }
}
