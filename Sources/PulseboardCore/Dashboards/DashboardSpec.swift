/// A dashboard as engineers write it in `dashboards/*.json`: variables, a grid layout and
/// widgets, each widget a live query plus how to show it. Parsed and validated by
/// `DashboardSpecParser`; see `dashboards/schema.json` for the published format.
public struct DashboardSpec: Sendable {
    /// A dashboard variable (`org_id`, `segment`, …) that widgets reference as `$name`.
    public struct Variable: Sendable, Equatable {
        public var name: String
        public var defaultValue: String
        /// Allowed values; nil means any value. `any` always means "no filter".
        public var allowed: [String]?
    }

    /// Widget kinds the frontend knows how to draw.
    public enum WidgetType: String, Sendable, CaseIterable {
        case stat, timeseries, bar, gauge, table, heatmap, distribution
        case alertList = "alert_list"
        case text

        /// Whether the widget needs a `query`.
        public var needsQuery: Bool { self != .text && self != .alertList }
    }

    /// A widget's live query, with `$variable` references still unresolved in the filter.
    public struct Query: Sendable, Equatable {
        public var metric: Metric
        public var aggregation: String
        public var window: String
        public var windowSeconds: Int
        public var filterKey: String?
        public var filterValue: String?
        public var groupBy: String?
        public var top: Int
    }

    /// A widget's KPI query (`{"kpi": "nps", "window": "30d", "compare": [...], "trend": true}`),
    /// evaluated from history; the filter may reference a `$variable`.
    public struct KPIQuerySpec: Sendable, Equatable {
        public var kpi: KPI
        public var window: String
        public var days: Int
        public var filterKey: String?
        public var filterValue: String?
        public var compare: [ComparisonPeriod]
        public var trendDays: Int?
        /// `"until": "yesterday"`: the window ends with the last whole day.
        public var untilYesterday: Bool
    }

    /// Threshold colouring: `status` is `critical`, `warning` or `ok` by comparing the value with
    /// the levels, upwards (`above`: higher is worse) or downwards (`below`).
    public struct Thresholds: Sendable, Equatable {
        public enum Direction: String, Sendable { case above, below }
        public var direction: Direction
        public var warning: Double?
        public var critical: Double?
        public var colors: [String: String]

        /// The status of `value` under these thresholds.
        public func status(of value: Double) -> String {
            func worse(_ v: Double, _ level: Double?) -> Bool {
                guard let level else { return false }
                return direction == .above ? v >= level : v <= level
            }
            if worse(value, critical) { return "critical" }
            if worse(value, warning) { return "warning" }
            return "ok"
        }
    }

    /// How numbers are shown.
    public struct NumberFormat: Sendable, Equatable {
        public var decimals: Int
        /// 1.2 k instead of 1,234.
        public var compact: Bool
    }

    /// A cell of the grid.
    public struct GridPosition: Sendable, Equatable {
        public var x: Int
        public var y: Int
        public var w: Int
        public var h: Int

        public init(x: Int, y: Int, w: Int, h: Int) {
            self.x = x
            self.y = y
            self.w = w
            self.h = h
        }
    }

    /// One widget.
    public struct Widget: Sendable {
        public var id: String
        public var type: WidgetType
        public var title: String
        public var query: Query?
        public var kpi: KPIQuerySpec?
        public var unit: String?
        public var format: NumberFormat
        public var thresholds: Thresholds?
        public var sparkline: Bool
        public var text: String?
        public var position: GridPosition?
        /// A `heatmap` widget's query (instead of `query`).
        public var heatmap: HeatmapQuery? = nil
    }

    public var id: String
    public var title: String
    public var refreshMs: Int
    public var variables: [Variable]
    public var columns: Int
    public var widgets: [Widget]
    /// The spec as written, served back by `GET /api/dashboards/:id`.
    public var source: JSONValue

    /// Resolves variable values: defaults for the missing ones; throws for unknown variables
    /// and values outside a variable's allowed list.
    public func resolve(_ values: [String: String]) throws(SpecError) -> [String: String] {
        var out: [String: String] = [:]
        for (name, _) in values where !variables.contains(where: { $0.name == name }) {
            let known = variables.map(\.name)
            throw SpecError(path: "var." + name, message: "unknown variable '\(name)'; this dashboard has " + (known.isEmpty ? "no variables" : known.joined(separator: ", ")))
        }
        for v in variables {
            let value = values[v.name] ?? v.defaultValue
            if value != "any", let allowed = v.allowed, !allowed.contains(value) {
                throw SpecError(path: "var." + v.name, message: "'\(value)' is not allowed for \(v.name); one of any, " + allowed.joined(separator: ", "))
            }
            out[v.name] = value
        }
        return out
    }

    /// The concrete KPI query for resolved variable values (`any` drops the filter).
    public func kpiQuery(_ q: KPIQuerySpec, variables values: [String: String]) -> KPIQuery {
        KPIQuery(kpi: q.kpi, days: q.days, filter: filter(key: q.filterKey, value: q.filterValue, variables: values), compare: q.compare, trendDays: q.trendDays,
                 untilYesterday: q.untilYesterday)
    }

    /// The filter of a heatmap query for resolved variable values.
    public func heatmapFilter(_ q: HeatmapQuery, variables values: [String: String]) -> MetricQuery.Filter? {
        filter(key: q.filterKey, value: q.filterValue, variables: values)
    }

    /// A widget filter with `$variable` resolved; nil without a filter or for `any`.
    func filter(key: String?, value: String?, variables values: [String: String]) -> MetricQuery.Filter? {
        guard let key, var value else { return nil }
        if value.hasPrefix("$") { value = values[String(value.dropFirst())] ?? "any" }
        return value == "any" ? nil : .init(key: key, value: value)
    }

    /// The concrete query of `widget` for resolved variable values (`any` drops the filter).
    public func metricQuery(_ q: Query, variables values: [String: String]) -> MetricQuery {
        MetricQuery(
            metric: q.metric, aggregation: q.aggregation, windowSeconds: q.windowSeconds, groupBy: q.groupBy,
            filter: filter(key: q.filterKey, value: q.filterValue, variables: values), top: q.top)
    }
}

/// A problem in a dashboard spec: where (JSON path, line, column) and what is allowed instead.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int
    public var column: Int
    public var message: String

    public init(path: String, line: Int = 0, column: Int = 0, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(path) (line \(line), column \(column)): \(message)" : "\(path): \(message)"
    }
}

/// Every problem found in one spec.
public struct SpecErrors: Error, Sendable, Equatable {
    public var errors: [SpecError]
    public init(_ errors: [SpecError]) { self.errors = errors }
}
