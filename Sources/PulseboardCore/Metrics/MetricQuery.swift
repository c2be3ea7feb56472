/// A parsed metric query: what `GET /api/metrics/query` and dashboard widgets ask for.
public struct MetricQuery: Sendable, Equatable {
    public var metric: Metric
    public var aggregation: String
    public var windowSeconds: Int
    public var groupBy: String?
    public var filter: Filter?
    /// Groups returned before the rest are merged into `other`.
    public var top: Int
    /// Also return the window's response-time histogram (a quantile query; `distribution` widgets).
    public var wantsHistogram = false

    /// One `key:value` filter.
    public struct Filter: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }

        /// Parses `key:value` (both non-empty; the value may contain `:`).
        public init?(parsing text: String) {
            guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, text.index(after: colon) != text.endIndex else { return nil }
            self.init(key: String(text[..<colon]), value: String(text[text.index(after: colon)...]))
        }
    }

    public init(metric: Metric, aggregation: String? = nil, windowSeconds: Int, groupBy: String? = nil, filter: Filter? = nil, top: Int = 10) {
        self.metric = metric
        self.aggregation = aggregation ?? metric.aggregations[0]
        self.windowSeconds = windowSeconds
        self.groupBy = groupBy
        self.filter = filter
        self.top = top
    }

    /// Checks what can be decided without data: window range, tracked dimensions, and the
    /// filter / group-by combinations the live windows can answer.
    public func validate(against dims: DimensionSet) throws(QueryError) {
        guard windowSeconds >= 1, windowSeconds <= Aggregator.maxWindowSeconds else {
            throw QueryError(.badWindow, "window must be from 1s to 24h")
        }
        if metric == .activeSessions || metric == .activeThreads, filter != nil || groupBy != nil {
            throw QueryError(.unsupported, "\(metric.rawValue) is counted for all traffic only; drop filter and group_by")
        }
        if let f = filter {
            guard let d = dims.index(of: f.key) else {
                throw QueryError(.badFilter, "cannot filter on '\(f.key)'; tracked dimensions are " + dims.names.joined(separator: ", ") + " (aggregation.dimensions)")
            }
            if groupBy != nil {
                guard d == 0 else {
                    throw QueryError(.unsupported, "group_by combined with a filter on '\(f.key)' is not supported; filter on event_type, or drop group_by")
                }
                guard EventType(name: f.value) != nil else {
                    throw QueryError(.unsupported, "group_by with a filter on custom event type '\(f.value)' is not supported")
                }
                guard !metric.isDistinct else {
                    throw QueryError(.unsupported, "\(metric.rawValue) cannot combine group_by with filter=event_type; drop one of them")
                }
            }
        }
        if let g = groupBy, dims.index(of: g) == nil {
            throw QueryError(.badGroupBy, "cannot group by '\(g)'; tracked dimensions are " + dims.names.joined(separator: ", ") + " (aggregation.dimensions)")
        }
    }

    /// Parses query parameters (`metric`, `window`, `agg`, `group_by`, `filter`, `top`).
    public static func parse(_ params: [String: String]) throws(QueryError) -> MetricQuery {
        guard let name = params["metric"] else {
            throw QueryError(.missingParameter, "metric is required; one of " + Metric.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard let metric = Metric(rawValue: name) else {
            throw QueryError(.unknownMetric, "unknown metric '\(name)'; one of " + Metric.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let windowText = params["window"] ?? "5m"
        let seconds = try WindowSpec.parseSeconds(windowText)
        if let agg = params["agg"], !metric.aggregations.contains(agg) {
            throw QueryError(.unknownAggregation, "unknown agg '\(agg)' for \(name); one of " + metric.aggregations.joined(separator: ", "))
        }
        var filter: Filter? = nil
        if let f = params["filter"] {
            guard let colon = f.firstIndex(of: ":"), colon != f.startIndex else {
                throw QueryError(.badFilter, "filter must be key:value, e.g. filter=event_type:chat_interaction")
            }
            filter = Filter(key: String(f[..<colon]), value: String(f[f.index(after: colon)...]))
        }
        var top = 10
        if let t = params["top"] {
            guard let v = Int(t), v >= 1, v <= 1000 else { throw QueryError(.badParameter, "top must be an integer from 1 to 1000") }
            top = v
        }
        let groupBy = params["group_by"].flatMap { $0.isEmpty ? nil : $0 }
        return MetricQuery(metric: metric, aggregation: params["agg"], windowSeconds: seconds, groupBy: groupBy, filter: filter, top: top)
    }
}

/// Why a query cannot be answered; maps to HTTP 400.
public struct QueryError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case missingParameter = "missing_parameter"
        case unknownMetric = "unknown_metric"
        case unknownAggregation = "unknown_aggregation"
        case badWindow = "bad_window"
        case badFilter = "bad_filter"
        case badGroupBy = "bad_group_by"
        case badParameter = "bad_parameter"
        case unsupported
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// Window lengths as written in queries and specs: `30s`, `5m`, `1h`, `24h`, `30d`.
public enum WindowSpec {
    /// Parses a window into seconds; live windows reach back at most 24 h.
    public static func parseSeconds(_ text: String, maxSeconds: Int = Aggregator.maxWindowSeconds) throws(QueryError) -> Int {
        guard let unit = text.last, let n = Int(text.dropLast()), n > 0 else {
            throw QueryError(.badWindow, "window '\(text)' must be a positive number followed by s, m, h or d (e.g. 30s, 5m, 1h, 24h)")
        }
        let seconds: Int
        switch unit {
        case "s": seconds = n
        case "m": seconds = n * 60
        case "h": seconds = n * 3600
        case "d": seconds = n * 86_400
        default:
            throw QueryError(.badWindow, "window '\(text)' must end in s, m, h or d (e.g. 30s, 5m, 1h, 24h)")
        }
        guard seconds <= maxSeconds else {
            throw QueryError(.badWindow, "window '\(text)' is longer than the live windows keep (at most \(format(maxSeconds)))")
        }
        return seconds
    }

    /// Formats seconds the way windows are written (`5m`, `24h`).
    public static func format(_ seconds: Int) -> String {
        if seconds % 86_400 == 0, seconds >= 86_400 * 2 { return "\(seconds / 86_400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

/// The answer to a `MetricQuery`.
public struct QueryResult: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        /// Bucket start, epoch seconds.
        public var start: Int64
        public var value: Double?
    }
    public struct Group: Sendable, Equatable {
        public var name: String
        public var value: Double?
    }
    public var query: MetricQuery
    public var value: Double?
    /// Per-bucket values, oldest first (metrics with a series, when not grouped).
    public var series: [Point]?
    /// Bucket width of `series` in seconds.
    public var bucketSeconds: Int
    /// Top groups by value, then `other` (when grouped).
    public var groups: [Group]?
    /// Events behind the value (sample size).
    public var sampleSize: Int
    /// The window's response-time distribution, when the query `wantsHistogram`.
    public var histogram: [QuantileSketch.Bin]? = nil
}
