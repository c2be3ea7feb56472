import PulseboardCore

/// The values behind one frame: metrics from the ingestor's live windows, KPIs from history.
/// Made per frame: the days of each series are fetched once and every KPI, comparison and
/// trend of the frame reads them.
public final class LiveFrameSource: FrameSource {
    let ingestor: Ingestor
    let benchmarks: [KPI: Double]
    let alertLog: AlertLog?
    let nowMs: Int64
    var days: [Int32: DailyHistory] = [:]

    public init(ingestor: Ingestor, benchmarks: [KPI: Double], alerts: AlertLog? = nil, nowMs: Int64) {
        self.ingestor = ingestor
        self.benchmarks = benchmarks
        self.alertLog = alerts
        self.nowMs = nowMs
    }

    public func alerts(limit: Int) -> [Alert] { alertLog?.listed(limit: limit) ?? [] }

    public func hourOfWeek(filter: MetricQuery.Filter?, days: Int) -> Result<HourOfWeekGrid, QueryError> {
        guard let history = ingestor.history else {
            return .failure(QueryError(.unsupported, "a heatmap needs history; this server runs without a rollup store"))
        }
        var series = SeriesCatalog.all
        if let f = filter {
            guard let id = history.seriesId(dimension: f.key, value: f.value) else { return .success(HourOfWeekGrid()) }
            series = id
        }
        do {
            return .success(try history.hourOfWeek(series: series, days: days, nowMs: nowMs))
        } catch {
            return .failure(QueryError(.unsupported, "history could not be read: \(error)"))
        }
    }

    public func query(_ q: MetricQuery) -> Result<QueryResult, QueryError> {
        Result { () throws(QueryError) in try ingestor.query(q) }
    }

    public func kpi(_ q: KPIQuery) -> Result<KPIResult, QueryError> {
        guard let history = ingestor.history else {
            return .failure(QueryError(.unsupported, "KPIs need history; this server runs without a rollup store"))
        }
        let today = history.day(ofMillis: nowMs)
        var series = SeriesCatalog.all
        if let f = q.filter {
            guard let id = history.seriesId(dimension: f.key, value: f.value) else {
                return .success(KPIResult(value: KPIValue(value: nil, n: 0)))
            }
            series = id
        }
        let last = today - (q.untilYesterday ? 1 : 0)
        let first = last - Int64(q.days) + 1
        let earliest = today - Int64(q.lookbackDays)
        let data: DailyHistory
        if let cached = days[series], cached.firstDay <= earliest, cached.lastDay == today {
            data = cached
        } else {
            data = history.days(series: series, first: earliest, last: today)
            days[series] = data
        }
        let evaluator = KPIEvaluator(history: data, benchmarks: benchmarks)
        var result = KPIResult(value: evaluator.value(q.kpi, first: first, last: last))
        for p in q.compare {
            let (other, comparison) = evaluator.comparison(q.kpi, period: p, first: first, last: last, current: result.value)
            result.compared.append(.init(period: p, other: other, comparison: comparison))
        }
        if let t = q.trendDays {
            let (daily, trend) = evaluator.trend(q.kpi, days: t, lastDay: last)
            let calendar = history.calendar
            result.trend = trend
            result.daily = daily.map { (calendar.start(ofDay: $0.day), $0.value) }
        }
        return .success(result)
    }
}
