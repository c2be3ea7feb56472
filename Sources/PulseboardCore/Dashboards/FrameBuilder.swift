/// Computes a dashboard frame: one entry per widget with its current values. Pure: the caller
/// supplies the values (a `FrameSource`: live windows and history) and the clock, so frames are
/// testable alone.
///
/// Frames never contain `null`: a value with no data is left out, so every change between two
/// frames is an RFC 7386 merge patch. Series are objects keyed by bucket start (epoch seconds)
/// so a delta adds new points and deletes old ones without resending the series.
public struct FrameBuilder: Sendable {
    public init() {}

    /// The `widgets` object of a frame for `spec` under resolved `variables`.
    public func widgets(_ spec: DashboardSpec, variables: [String: String], source: some FrameSource) -> JSONValue {
        var out: [(String, JSONValue)] = []
        out.reserveCapacity(spec.widgets.count)
        for w in spec.widgets {
            if let k = w.kpi {
                out.append((w.id, kpi(spec.kpiQuery(k, variables: variables), unit: w.unit, thresholds: w.thresholds, source: source)))
            } else if w.type == .alertList {
                out.append((w.id, alertList(source.alerts(limit: FrameBuilder.alertListSize))))
            } else if let h = w.heatmap {
                out.append((w.id, heatmap(h, unit: w.unit, grid: source.hourOfWeek(filter: spec.heatmapFilter(h, variables: variables), days: h.days))))
            } else {
                out.append((w.id, widget(w, spec: spec, variables: variables, query: source.query)))
            }
        }
        return .object(out)
    }

    /// A KPI as a widget shows it and `GET /api/kpis/:kpi` serves it: value, sample size
    /// (flagged below 30), error bound, comparisons, trend and a daily sparkline keyed by day start.
    public func kpi(
        _ q: KPIQuery, unit: String?, thresholds: DashboardSpec.Thresholds? = nil, source: some FrameSource
    ) -> JSONValue {
        let result: KPIResult
        switch source.kpi(q) {
        case .success(let r): result = r
        case .failure(let e): return .object([("error", .string(e.message))])
        }
        var members: [(String, JSONValue)] = []
        if let unit { members.append(("unit", .string(unit))) }
        if let v = result.value.value.map(JSONWriter.rounded) {
            members.append(("value", .number(v)))
            if let thresholds { members.append(("status", .string(thresholds.status(of: v)))) }
        }
        members.append(("n", .number(Double(result.value.n))))
        members.append(("low_sample", .bool(result.value.lowSample)))
        if let e = result.value.errorBound { members.append(("error_bound", .number(JSONWriter.rounded(e)))) }
        members.append(("good", .string(q.kpi.higherIsBetter ? "up" : "down")))
        if !result.compared.isEmpty {
            var compare: [(String, JSONValue)] = []
            for c in result.compared {
                var m: [(String, JSONValue)] = []
                if let v = c.other.value { m.append(("value", .number(JSONWriter.rounded(v)))) }
                if let cmp = c.comparison {
                    m.append(("change", .number(JSONWriter.rounded(cmp.change))))
                    if let p = cmp.changePercent { m.append(("change_pct", .number(JSONWriter.rounded(p)))) }
                    m.append(("verdict", .string(cmp.verdict.rawValue)))
                }
                if c.period != .benchmark { m.append(("n", .number(Double(c.other.n)))) }
                compare.append((c.period.rawValue, .object(m)))
            }
            members.append(("compare", .object(compare)))
        }
        if let t = result.trend {
            var m: [(String, JSONValue)] = [("direction", .string(t.direction.rawValue)), ("slope_per_day", .number(JSONWriter.rounded(t.slopePerDay)))]
            if let p = t.changePercent { m.append(("change_pct", .number(JSONWriter.rounded(p)))) }
            m.append(("days", .number(Double(t.n))))
            members.append(("trend", .object(m)))
            members.append(("series", .object(result.daily.compactMap { d in d.value.map { (String(d.start), .number(JSONWriter.rounded($0))) } })))
        }
        return .object(members)
    }

    /// A `heatmap` widget: `cells` holds 7 rows (Monday first, in the history time zone) of 24
    /// hourly values, 0 where an hour had no data; `value` is the busiest cell.
    public func heatmap(_ q: HeatmapQuery, unit: String?, grid: Result<HourOfWeekGrid, QueryError>) -> JSONValue {
        let g: HourOfWeekGrid
        switch grid {
        case .success(let v): g = v
        case .failure(let e): return .object([("error", .string(e.message))])
        }
        var members: [(String, JSONValue)] = []
        if let unit { members.append(("unit", .string(unit))) }
        var rows: [JSONValue] = []
        var top: Double? = nil
        var n: UInt64 = 0
        for day in 0..<7 {
            var row: [JSONValue] = []
            for hour in 0..<24 {
                let i = day * 24 + hour
                n += q.metric == .responseTimeMs ? g.cells[i].responseCount : g.cells[i].events
                let v = q.value(of: g.cells[i], hours: g.hours[i]) ?? 0
                top = max(top ?? v, v)
                row.append(.number(JSONWriter.rounded(v)))
            }
            rows.append(.array(row))
        }
        if let top { members.append(("value", .number(JSONWriter.rounded(top)))) }
        members.append(("n", .number(Double(n))))
        members.append(("cells", .array(rows)))
        members.append(("days", .number(Double(q.days))))
        members.append(("time_zone", .string(g.timeZone)))
        return .object(members)
    }

    /// Alerts an `alert_list` widget shows.
    public static let alertListSize = 10

    /// An `alert_list` widget: firing alerts first (most severe), then the latest resolved ones.
    public func alertList(_ alerts: [Alert]) -> JSONValue {
        .object([
            ("items", .array(alerts.map(\.json))),
            ("firing", .number(Double(alerts.lazy.filter { $0.state == .firing }.count))),
        ])
    }

    /// A whole frame: `{"dashboard", "seq", "ts", "widgets", "alerts"}`.
    public func frame(dashboard: String, seq: UInt64, timestampMs: Int64, widgets: JSONValue, alerts: JSONValue = .object([])) -> JSONValue {
        .object([
            ("dashboard", .string(dashboard)),
            ("seq", .number(Double(seq))),
            ("ts", .string(Timestamp.format(millis: timestampMs))),
            ("widgets", widgets),
            ("alerts", alerts),
        ])
    }

    func widget(
        _ w: DashboardSpec.Widget, spec: DashboardSpec, variables: [String: String],
        query: (MetricQuery) -> Result<QueryResult, QueryError>
    ) -> JSONValue {
        if w.type == .text { return .object([("text", .string(w.text ?? ""))]) }
        guard let q = w.query else { return .object([]) }
        let mq = spec.metricQuery(q, variables: variables)
        var members: [(String, JSONValue)] = []
        if let unit = w.unit { members.append(("unit", .string(unit))) }

        if w.type == .distribution {
            var percentiles: [(String, JSONValue)] = []
            var histogram: [QuantileSketch.Bin] = []
            var n = 0
            for agg in ["avg", "p50", "p90", "p95", "p99", "max"] {
                var pq = mq
                pq.aggregation = agg
                pq.wantsHistogram = agg == "p50"
                if case .success(let r) = query(pq) {
                    n = r.sampleSize
                    if let v = r.value { percentiles.append((agg, .number(JSONWriter.rounded(v)))) }
                    if agg == "p50", let h = r.histogram { histogram = h }
                }
            }
            if let p95 = percentiles.first(where: { $0.0 == "p95" })?.1, case .number(let v) = p95 {
                members.append(("value", .number(v)))
                if let t = w.thresholds { members.append(("status", .string(t.status(of: v)))) }
            }
            members.append(("percentiles", .object(percentiles)))
            if let first = histogram.first {
                // Equal-width bars from 0: their width and counts (an array, so a delta resends it whole).
                members.append(("histogram", .object([
                    ("bin_width", .number(JSONWriter.rounded(first.upper - first.lower))),
                    ("counts", .array(histogram.map { .number(Double($0.count)) })),
                ])))
            }
            members.append(("n", .number(Double(n))))
            return .object(members)
        }

        let result: QueryResult
        switch query(mq) {
        case .success(let r): result = r
        case .failure(let e): return .object([("error", .string(e.message))])
        }
        if let v = result.value.map(JSONWriter.rounded) {
            members.append(("value", .number(v)))
            if let t = w.thresholds { members.append(("status", .string(t.status(of: v)))) }
        }
        members.append(("n", .number(Double(result.sampleSize))))
        let wantsSeries = w.type == .timeseries || w.sparkline
        if wantsSeries, let series = result.series {
            members.append(("series", .object(series.compactMap { p in p.value.map { (String(p.start), .number(JSONWriter.rounded($0))) } })))
        }
        if let groups = result.groups {
            members.append(("groups", .object(groups.compactMap { g in g.value.map { (g.name, .number(JSONWriter.rounded($0))) } })))
            members.append(("order", .array(groups.map { .string($0.name) })))
        }
        return .object(members)
    }
}
