/// A KPI as a widget asks for it: the KPI over the last `days` local days (today included),
/// optionally for one dimension value, with comparisons and a daily trend.
public struct KPIQuery: Sendable, Equatable {
    public var kpi: KPI
    public var days: Int
    public var filter: MetricQuery.Filter?
    public var compare: [ComparisonPeriod]
    /// Days of daily values for the trend and sparkline; nil = no trend.
    public var trendDays: Int?
    /// The window ends yesterday (whole days only): a day-based value such as DAU is not
    /// compared while today is still filling up.
    public var untilYesterday: Bool

    public init(
        kpi: KPI, days: Int, filter: MetricQuery.Filter? = nil, compare: [ComparisonPeriod] = [], trendDays: Int? = nil,
        untilYesterday: Bool = false
    ) {
        self.kpi = kpi
        self.days = days
        self.filter = filter
        self.compare = compare
        self.trendDays = trendDays
        self.untilYesterday = untilYesterday
    }

    /// How many days before the window's first day the evaluation reads (previous windows,
    /// calendar shifts, rolling WAU/MAU under the trend).
    public var lookbackDays: Int {
        var back = days
        if kpi == .userGrowth || kpi == .churnRate { back += days }
        for p in compare {
            switch p {
            case .previousPeriod: back = max(back, 2 * days + (kpi == .userGrowth || kpi == .churnRate ? days : 0))
            case .lastMonth: back = max(back, 31 + 2 * days)
            case .lastQuarter: back = max(back, 92 + 2 * days)
            case .lastYear: back = max(back, 366 + 2 * days)
            case .benchmark: break
            }
        }
        if let t = trendDays { back = max(back, t + (kpi == .mau ? 30 : kpi == .wau ? 7 : 1)) }
        return back + (untilYesterday ? 1 : 0)
    }
}

/// A KPI with its comparisons and trend, ready for a frame.
public struct KPIResult: Sendable {
    public struct Compared: Sendable {
        public var period: ComparisonPeriod
        public var other: KPIValue
        public var comparison: Comparison?

        public init(period: ComparisonPeriod, other: KPIValue, comparison: Comparison?) {
            self.period = period
            self.other = other
            self.comparison = comparison
        }
    }

    public var value: KPIValue
    public var compared: [Compared]
    public var trend: Trend?
    /// Daily values for the sparkline: (UTC second the local day starts, value), oldest first.
    public var daily: [(start: Int64, value: Double?)]

    public init(value: KPIValue, compared: [Compared] = [], trend: Trend? = nil, daily: [(start: Int64, value: Double?)] = []) {
        self.value = value
        self.compared = compared
        self.trend = trend
        self.daily = daily
    }
}

/// What frames read values from: the live windows for metrics, history for KPIs.
public protocol FrameSource {
    func query(_ q: MetricQuery) -> Result<QueryResult, QueryError>
    func kpi(_ q: KPIQuery) -> Result<KPIResult, QueryError>
    /// What an `alert_list` widget shows: firing alerts, then the latest resolved, at most `limit`.
    func alerts(limit: Int) -> [Alert]
    /// What a `heatmap` widget shows: the last `days` days of hour rollups of the series
    /// `filter` selects, merged by local hour of the week.
    func hourOfWeek(filter: MetricQuery.Filter?, days: Int) -> Result<HourOfWeekGrid, QueryError>
}

extension FrameSource {
    public func alerts(limit: Int) -> [Alert] { [] }
    public func hourOfWeek(filter: MetricQuery.Filter?, days: Int) -> Result<HourOfWeekGrid, QueryError> {
        .failure(QueryError(.unsupported, "a heatmap needs history; this server runs without a rollup store"))
    }
}
