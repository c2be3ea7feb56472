/// The alert rules and the anomaly detector's settings, from `config/alerts.json`.
public struct AlertConfiguration: Sendable, Equatable {
    public var rules: [AlertRule]
    /// nil: anomaly detection off.
    public var anomaly: AnomalyDetector.Settings?

    public init(rules: [AlertRule] = [], anomaly: AnomalyDetector.Settings? = AnomalyDetector.Settings()) {
        self.rules = rules
        self.anomaly = anomaly
    }
}

/// Parses `config/alerts.json`, reporting every problem with its JSON path, line and column:
///
/// ```json
/// {"rules": [{"id": "high_error_rate", "title": "Error rate above 5 %",
///             "query": {"metric": "error_rate", "window": "5m"}, "condition": "> 0.05",
///             "severity": "critical", "for": "1m", "hysteresis": 0.01, "min_samples": 30}],
///  "anomaly": {"metrics": ["events", "interactions", "errors"], "warning_z": 4, "critical_z": 6}}
/// ```
public struct AlertRulesParser: Sendable {
    let queries: DashboardSpecParser

    public init(dimensions: DimensionSet = DimensionSet(), maxKPIDays: Int = 730) {
        self.queries = DashboardSpecParser(dimensions: dimensions, maxKPIDays: maxKPIDays)
    }

    static let topKeys = ["$schema", "description", "rules", "anomaly"]
    static let ruleKeys = ["id", "title", "query", "condition", "severity", "for", "hysteresis", "min_samples", "recommendation"]
    static let anomalyKeys = ["enabled", "metrics", "baseline_weeks", "min_weeks", "warning_z", "critical_z", "for_minutes", "min_baseline", "spread_floor"]

    public func parse(_ bytes: [UInt8]) -> Result<AlertConfiguration, SpecErrors> {
        let root: JSONValue
        var c: DashboardSpecParser.Context
        switch DashboardSpecParser.Context.document(bytes, notAnObject: "must be a JSON object with rules and anomaly") {
        case .success(let d): (root, c) = d
        case .failure(let e): return .failure(e)
        }
        c.unknownKeys(root, at: "$", allowed: AlertRulesParser.topKeys)
        var config = AlertConfiguration()
        switch root["rules"] {
        case nil: break
        case .array(let items)?:
            var seen: [String: Int] = [:]
            for (i, item) in items.enumerated() {
                guard let rule = parseRule(item, path: "$.rules[\(i)]", &c) else { continue }
                if let first = seen[rule.id] { c.fail("$.rules[\(i)].id", "duplicate rule id '\(rule.id)' (also $.rules[\(first)])"); continue }
                seen[rule.id] = i
                config.rules.append(rule)
            }
        default: c.fail("$.rules", "must be an array of rules")
        }
        if let a = root["anomaly"] { config.anomaly = parseAnomaly(a, &c) }
        guard c.errors.isEmpty else { return .failure(SpecErrors(c.errors)) }
        return .success(config)
    }

    func parseRule(_ value: JSONValue, path: String, _ c: inout DashboardSpecParser.Context) -> AlertRule? {
        guard case .object = value else { c.fail(path, "must be an object with id, query, condition and severity"); return nil }
        c.unknownKeys(value, at: path, allowed: AlertRulesParser.ruleKeys)
        let errors = c.errors.count
        var id = ""
        if case .string(let s)? = value["id"], DashboardSpecParser.isIdentifier(s) { id = s } else {
            c.fail(path + ".id", "required: " + DashboardSpecParser.idPattern)
        }
        var source: AlertRule.Source?
        switch value["query"] {
        case let q? where q["kpi"] != nil:
            if let k = queries.parseKPIQuery(q, path: path + ".query", variables: [], &c) {
                if !k.compare.isEmpty || k.trendDays != nil { c.fail(path + ".query", "an alert watches the value only: drop compare and trend") }
                source = .kpi(KPIQuery(
                    kpi: k.kpi, days: k.days, filter: k.filterKey.map { .init(key: $0, value: k.filterValue ?? "") }, untilYesterday: k.untilYesterday))
            }
        case let q?:
            if let m = queries.parseQuery(q, path: path + ".query", variables: [], &c) {
                if m.groupBy != nil { c.fail(path + ".query.group_by", "an alert watches one value: drop group_by") }
                source = .metric(MetricQuery(
                    metric: m.metric, aggregation: m.aggregation, windowSeconds: m.windowSeconds,
                    filter: m.filterKey.map { .init(key: $0, value: m.filterValue ?? "") }))
            }
        case nil: c.fail(path + ".query", "required: a metric query ({\"metric\": \"error_rate\", \"window\": \"5m\"}) or a KPI query ({\"kpi\": \"nps\", \"window\": \"7d\"})")
        }
        var comparator = AlertRule.Comparator.above
        var threshold = 0.0
        let conditionHelp = "must be a comparison and a number, e.g. \"> 0.05\" or \"<= 30\" (operators >, >=, <, <=)"
        if case .string(let text)? = value["condition"] {
            let parts = text.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, let op = AlertRule.Comparator(rawValue: String(parts[0])), let n = Double(parts[1]), n.isFinite {
                comparator = op
                threshold = n
            } else {
                c.fail(path + ".condition", conditionHelp + " (got '\(text)')")
            }
        } else {
            c.fail(path + ".condition", conditionHelp)
        }
        var severity = AlertSeverity.warning
        if let s = value["severity"] {
            if case .string(let text) = s, let sev = AlertSeverity(rawValue: text) { severity = sev } else {
                c.fail(path + ".severity", "must be one of " + AlertSeverity.allCases.map(\.rawValue).joined(separator: ", "))
            }
        }
        var forMs: Int64 = 0
        if let f = value["for"] {
            if case .string(let text) = f, let seconds = try? WindowSpec.parseSeconds(text) { forMs = Int64(seconds) * 1000 } else {
                c.fail(path + ".for", "must be a duration such as 30s, 2m or 1h (at most 24h)")
            }
        }
        var hysteresis = 0.0
        if let h = value["hysteresis"] {
            if case .number(let n) = h, n >= 0, n.isFinite { hysteresis = n } else { c.fail(path + ".hysteresis", "must be a number ≥ 0, in the metric's unit") }
        }
        var minSamples = 0
        if let m = value["min_samples"] {
            if case .number(let n) = m, n == n.rounded(), n >= 0, n <= 1_000_000_000 { minSamples = Int(n) } else {
                c.fail(path + ".min_samples", "must be an integer ≥ 0")
            }
        }
        var recommendation: String?
        if let r = value["recommendation"] {
            if case .string(let s) = r, !s.isEmpty { recommendation = s } else { c.fail(path + ".recommendation", "must be a non-empty string") }
        }
        var title = id
        if let t = value["title"] {
            if case .string(let s) = t, !s.isEmpty { title = s } else { c.fail(path + ".title", "must be a non-empty string") }
        }
        guard c.errors.count == errors, let source else { return nil }
        return AlertRule(
            id: id, title: title, source: source, comparator: comparator, threshold: threshold, severity: severity, forMs: forMs,
            hysteresis: hysteresis, minSamples: minSamples, recommendation: recommendation)
    }

    func parseAnomaly(_ value: JSONValue, _ c: inout DashboardSpecParser.Context) -> AnomalyDetector.Settings? {
        guard case .object = value else { c.fail("$.anomaly", "must be an object"); return nil }
        c.unknownKeys(value, at: "$.anomaly", allowed: AlertRulesParser.anomalyKeys)
        if case .bool(false)? = value["enabled"] { return nil }
        if let e = value["enabled"], case .bool = e {} else if value["enabled"] != nil { c.fail("$.anomaly.enabled", "must be true or false") }
        var s = AnomalyDetector.Settings()
        if let m = value["metrics"] {
            let names = AnomalyMetric.allCases.map(\.rawValue).joined(separator: ", ")
            if case .array(let items) = m {
                s.metrics = []
                for (i, item) in items.enumerated() {
                    if case .string(let name) = item, let metric = AnomalyMetric(rawValue: name) { s.metrics.append(metric) } else {
                        c.fail("$.anomaly.metrics[\(i)]", "must be one of " + names)
                    }
                }
            } else {
                c.fail("$.anomaly.metrics", "must be an array of " + names)
            }
        }
        func integer(_ key: String, _ range: ClosedRange<Int>, _ c: inout DashboardSpecParser.Context) -> Int? {
            guard let v = value[key] else { return nil }
            if case .number(let n) = v, n == n.rounded(), range.contains(Int(n)) { return Int(n) }
            c.fail("$.anomaly." + key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        func number(_ key: String, _ c: inout DashboardSpecParser.Context) -> Double? {
            guard let v = value[key] else { return nil }
            if case .number(let n) = v, n >= 1, n <= 100 { return n }
            c.fail("$.anomaly." + key, "must be a number from 1 to 100")
            return nil
        }
        if let n = integer("baseline_weeks", 1...12, &c) { s.baselineWeeks = n }
        if let n = integer("min_weeks", 1...12, &c) { s.minWeeks = n }
        if let n = integer("for_minutes", 1...60, &c) { s.forMinutes = n }
        if let z = number("warning_z", &c) { s.warningZ = z }
        if let z = number("critical_z", &c) { s.criticalZ = z }
        if let f = value["spread_floor"] {
            if case .number(let n) = f, n >= 0, n <= 1 { s.spreadFloor = n } else { c.fail("$.anomaly.spread_floor", "must be a number from 0 to 1 (a share of the median)") }
        }
        if let m = value["min_baseline"] {
            if case .number(let n) = m, n >= 0, n.isFinite { s.minBaseline = n } else { c.fail("$.anomaly.min_baseline", "must be a number ≥ 0 (events per minute)") }
        }
        if s.minWeeks > s.baselineWeeks { c.fail("$.anomaly.min_weeks", "must not exceed baseline_weeks (\(s.baselineWeeks))") }
        if s.criticalZ < s.warningZ { c.fail("$.anomaly.critical_z", "must be at least warning_z (\(AlertRule.format(s.warningZ)))") }
        return s
    }
}
