/// Parses and validates dashboard specs, reporting *every* problem with its JSON path, line and
/// column, and a message that says what is allowed.
///
/// ```swift
/// switch DashboardSpecParser(dimensions: dims).parse(bytes, fileId: "engagement") {
/// case .success(let spec): …
/// case .failure(let e): e.errors.forEach { print($0) }   // $.widgets[2].query.window (line 31, column 22): …
/// }
/// ```
public struct DashboardSpecParser: Sendable {
    public let dimensions: DimensionSet
    /// Longest KPI window, in days (history keeps days this long).
    public let maxKPIDays: Int
    /// Longest heatmap window, in days (history keeps hour rollups this long).
    public let maxHeatmapDays: Int

    public init(dimensions: DimensionSet = DimensionSet(), maxKPIDays: Int = 730, maxHeatmapDays: Int = 90) {
        self.dimensions = dimensions
        self.maxKPIDays = maxKPIDays
        self.maxHeatmapDays = maxHeatmapDays
    }

    static let topKeys = ["$schema", "id", "title", "description", "refresh_ms", "variables", "layout", "widgets"]
    static let widgetKeys = ["id", "type", "title", "query", "unit", "format", "thresholds", "sparkline", "text", "position"]
    static let queryKeys = ["metric", "window", "aggregation", "agg", "filter", "group_by", "top"]
    static let idPattern = "lowercase letters, digits, '-' and '_' (1–64 characters)"

    /// Collects errors while walking the document.
    struct Context {
        let positions: [String: (line: Int, column: Int)]
        var errors: [SpecError] = []

        mutating func fail(_ path: String, _ message: String) {
            // Point at the value itself, or at the nearest ancestor that exists.
            var p = path
            while positions[p] == nil, let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) { p = String(p[..<cut]) }
            let pos = positions[p] ?? (1, 1)
            errors.append(SpecError(path: path, line: pos.line, column: pos.column, message: message))
        }

        /// Parses a JSON document that must be an object (else the error `notAnObject`), keeping
        /// each value's position for the errors that follow.
        static func document(_ bytes: [UInt8], notAnObject: String) -> Result<(root: JSONValue, context: Context), SpecErrors> {
            let root: JSONValue
            let positions: [String: (line: Int, column: Int)]
            do {
                (root, positions) = try JSONValue.parseWithPositions(bytes)
            } catch {
                return .failure(SpecErrors([SpecError(path: "$", line: error.line, column: error.column, message: "malformed JSON: \(error.message)")]))
            }
            var c = Context(positions: positions)
            guard case .object = root else {
                c.fail("$", notAnObject)
                return .failure(SpecErrors(c.errors))
            }
            return .success((root, c))
        }

        mutating func unknownKeys(_ value: JSONValue, at path: String, allowed: [String]) {
            guard case .object(let members) = value else { return }
            for (k, _) in members where !allowed.contains(k) {
                fail(path + JSONValue.pathComponent(k), "unknown key '\(k)'; allowed keys are " + allowed.joined(separator: ", "))
            }
        }
    }

    /// Whether `s` is a valid dashboard, widget or variable id.
    public static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }
    }

    /// Parses a spec. `fileId` (the file name without `.json`) must match the spec's `id` when given.
    public func parse(_ bytes: [UInt8], fileId: String? = nil) -> Result<DashboardSpec, SpecErrors> {
        let root: JSONValue
        var c: Context
        switch Context.document(bytes, notAnObject: "a dashboard must be a JSON object with id, title and widgets") {
        case .success(let d): (root, c) = d
        case .failure(let e): return .failure(e)
        }
        c.unknownKeys(root, at: "$", allowed: DashboardSpecParser.topKeys)

        var id = ""
        switch root["id"] {
        case .string(let s)? where DashboardSpecParser.isIdentifier(s): id = s
        case nil: c.fail("$.id", "required: " + DashboardSpecParser.idPattern)
        default: c.fail("$.id", "must be a string of " + DashboardSpecParser.idPattern)
        }
        if let fileId, !id.isEmpty, id != fileId { c.fail("$.id", "'\(id)' does not match the file name '\(fileId).json'") }
        var title = id
        if let t = root["title"] {
            if case .string(let s) = t, !s.isEmpty { title = s } else { c.fail("$.title", "must be a non-empty string") }
        } else {
            c.fail("$.title", "required: a non-empty string")
        }
        var refresh = 1000
        if let r = root["refresh_ms"] {
            if case .number(let n) = r, n == n.rounded(), n >= 100, n <= 3_600_000 { refresh = Int(n) } else {
                c.fail("$.refresh_ms", "must be an integer from 100 to 3600000 (milliseconds; default 1000)")
            }
        }
        let variables = parseVariables(root["variables"], &c)
        var (columns, positionsById) = parseLayout(root["layout"], &c)

        var widgets: [DashboardSpec.Widget] = []
        var positionsOfInvalid: [String: DashboardSpec.GridPosition] = [:]
        var widgetIds: [String] = []
        if case .array(let items)? = root["widgets"] {
            widgetIds = items.compactMap { if case .string(let s)? = $0["id"] { s } else { nil } }
            if items.isEmpty { c.fail("$.widgets", "must hold at least one widget") }
            var seen: [String: Int] = [:]
            for (i, item) in items.enumerated() {
                let path = "$.widgets[\(i)]"
                if case .string(let rawId)? = item["id"] {
                    if let first = seen[rawId] {
                        c.fail(path + ".id", "duplicate widget id '\(rawId)' (also $.widgets[\(first)])")
                    } else {
                        seen[rawId] = i
                    }
                    if DashboardSpecParser.isIdentifier(rawId) { positionsById.removeValue(forKey: rawId).map { positionsOfInvalid[rawId] = $0 } }
                }
                guard var w = parseWidget(item, path: path, variables: variables, &c) else { continue }
                if w.position == nil { w.position = positionsOfInvalid.removeValue(forKey: w.id) }
                if w.position == nil { w.position = positionsById.removeValue(forKey: w.id) } else { positionsById.removeValue(forKey: w.id) }
                if let p = w.position, p.x + p.w > columns {
                    c.fail(path, "position x + w = \(p.x + p.w) is wider than the layout's \(columns) columns")
                }
                widgets.append(w)
            }
        } else if root["widgets"] == nil {
            c.fail("$.widgets", "required: an array of widgets")
        } else {
            c.fail("$.widgets", "must be an array of widgets")
        }
        for (ref, _) in positionsById.sorted(by: { $0.key < $1.key }) {
            c.fail("$.layout.positions" + JSONValue.pathComponent(ref), "refers to widget '\(ref)', which does not exist; widget ids are " + widgetIds.joined(separator: ", "))
        }
        if columns < 1 { columns = 12 }
        guard c.errors.isEmpty else { return .failure(SpecErrors(c.errors)) }
        return .success(DashboardSpec(
            id: id, title: title, refreshMs: refresh, variables: variables, columns: columns, widgets: widgets, source: root))
    }

    func parseVariables(_ value: JSONValue?, _ c: inout Context) -> [DashboardSpec.Variable] {
        guard let value else { return [] }
        guard case .object(let members) = value else {
            c.fail("$.variables", "must be an object: {\"org_id\": {\"default\": \"any\", \"values\": \"any\"}}")
            return []
        }
        var out: [DashboardSpec.Variable] = []
        for (name, v) in members {
            let path = "$.variables" + JSONValue.pathComponent(name)
            guard DashboardSpecParser.isIdentifier(name) else { c.fail(path, "variable names use " + DashboardSpecParser.idPattern); continue }
            guard case .object = v else { c.fail(path, "must be an object with default and values"); continue }
            c.unknownKeys(v, at: path, allowed: ["default", "values", "label"])
            var allowed: [String]? = nil
            switch v["values"] {
            case .string("any")?, nil: allowed = nil
            case .array(let items)?:
                var list: [String] = []
                for (i, item) in items.enumerated() {
                    if case .string(let s) = item, !s.isEmpty { list.append(s) } else { c.fail(path + ".values[\(i)]", "must be a non-empty string") }
                }
                allowed = list.filter { $0 != "any" }
            default:
                c.fail(path + ".values", "must be \"any\" or an array of allowed values")
            }
            var def = "any"
            if let d = v["default"] {
                if case .string(let s) = d, !s.isEmpty { def = s } else { c.fail(path + ".default", "must be a non-empty string (\"any\" for no filter)") }
            }
            if def != "any", let allowed, !allowed.contains(def) {
                c.fail(path + ".default", "'\(def)' is not among the allowed values: any, " + allowed.joined(separator: ", "))
            }
            out.append(.init(name: name, defaultValue: def, allowed: allowed))
        }
        return out
    }

    func parseLayout(_ value: JSONValue?, _ c: inout Context) -> (Int, [String: DashboardSpec.GridPosition]) {
        guard let value else { return (12, [:]) }
        guard case .object = value else { c.fail("$.layout", "must be an object: {\"columns\": 12, \"positions\": {\"widget_id\": {\"x\",\"y\",\"w\",\"h\"}}}"); return (12, [:]) }
        c.unknownKeys(value, at: "$.layout", allowed: ["columns", "positions"])
        var columns = 12
        if let col = value["columns"] {
            if case .number(let n) = col, n == n.rounded(), n >= 1, n <= 48 { columns = Int(n) } else { c.fail("$.layout.columns", "must be an integer from 1 to 48") }
        }
        var positions: [String: DashboardSpec.GridPosition] = [:]
        if let p = value["positions"] {
            guard case .object(let members) = p else { c.fail("$.layout.positions", "must be an object of widget id to {x, y, w, h}"); return (columns, [:]) }
            for (id, pos) in members {
                if let g = parsePosition(pos, path: "$.layout.positions" + JSONValue.pathComponent(id), &c) { positions[id] = g }
            }
        }
        return (columns, positions)
    }

    func parsePosition(_ value: JSONValue, path: String, _ c: inout Context) -> DashboardSpec.GridPosition? {
        guard case .object = value else { c.fail(path, "must be {\"x\": 0, \"y\": 0, \"w\": 3, \"h\": 2}"); return nil }
        c.unknownKeys(value, at: path, allowed: ["x", "y", "w", "h"])
        var nums: [Int] = []
        for (k, min) in [("x", 0), ("y", 0), ("w", 1), ("h", 1)] {
            if case .number(let n)? = value[k], n == n.rounded(), n >= Double(min), n <= 1000 { nums.append(Int(n)) } else {
                c.fail(path + "." + k, "required: an integer ≥ \(min)")
                return nil
            }
        }
        return .init(x: nums[0], y: nums[1], w: nums[2], h: nums[3])
    }

    func parseWidget(_ value: JSONValue, path: String, variables: [DashboardSpec.Variable], _ c: inout Context) -> DashboardSpec.Widget? {
        guard case .object = value else { c.fail(path, "a widget must be an object with id, type and title"); return nil }
        c.unknownKeys(value, at: path, allowed: DashboardSpecParser.widgetKeys)
        var ok = true
        var id = ""
        if case .string(let s)? = value["id"], DashboardSpecParser.isIdentifier(s) { id = s } else {
            c.fail(path + ".id", "required: a string of " + DashboardSpecParser.idPattern); ok = false
        }
        var type = DashboardSpec.WidgetType.stat
        let types = DashboardSpec.WidgetType.allCases.map(\.rawValue).joined(separator: ", ")
        var typeKnown = true
        switch value["type"] {
        case .string(let s)? where DashboardSpec.WidgetType(rawValue: s) != nil: type = DashboardSpec.WidgetType(rawValue: s)!
        case .string(let s)?: c.fail(path + ".type", "unknown widget type '\(s)'; one of " + types); ok = false; typeKnown = false
        default: c.fail(path + ".type", "required: one of " + types); ok = false; typeKnown = false
        }
        var title = id
        if let t = value["title"] {
            if case .string(let s) = t { title = s } else { c.fail(path + ".title", "must be a string") }
        }
        var query: DashboardSpec.Query? = nil
        var kpi: DashboardSpec.KPIQuerySpec? = nil
        var heatmap: HeatmapQuery? = nil
        if typeKnown, !type.needsQuery, value["query"] != nil {
            // A query here would be silently ignored: say so instead.
            c.fail(path + ".query", "\(type.rawValue) widgets take no query (they show \(type == .alertList ? "the firing alerts" : "their text"))"); ok = false
        } else if type == .heatmap, let q = value["query"] {
            heatmap = parseHeatmapQuery(q, path: path + ".query", variables: variables, &c)
            if heatmap == nil { ok = false }
        } else if let q = value["query"], q["kpi"] != nil {
            kpi = parseKPIQuery(q, path: path + ".query", variables: variables, &c)
            if kpi == nil { ok = false }
            if typeKnown, ![.stat, .timeseries, .gauge].contains(type) {
                c.fail(path + ".type", "a kpi query is shown by a stat, timeseries or gauge widget; got \(type.rawValue)"); ok = false
            }
        } else if let q = value["query"] {
            query = parseQuery(q, path: path + ".query", variables: variables, &c)
            if query == nil { ok = false }
        } else if typeKnown, type.needsQuery {
            c.fail(path + ".query", "required for a \(type.rawValue) widget: {\"metric\": …, \"window\": …}"); ok = false
        }
        var unit: String? = nil
        if let u = value["unit"] {
            if case .string(let s) = u { unit = s } else { c.fail(path + ".unit", "must be a string") }
        }
        var format = DashboardSpec.NumberFormat(decimals: 0, compact: true)
        if let f = value["format"] {
            if case .object = f {
                c.unknownKeys(f, at: path + ".format", allowed: ["decimals", "compact"])
                if let d = f["decimals"] {
                    if case .number(let n) = d, n == n.rounded(), n >= 0, n <= 6 { format.decimals = Int(n) } else { c.fail(path + ".format.decimals", "must be an integer from 0 to 6") }
                }
                if let cp = f["compact"] {
                    if case .bool(let b) = cp { format.compact = b } else { c.fail(path + ".format.compact", "must be true or false") }
                }
            } else {
                c.fail(path + ".format", "must be an object: {\"decimals\": 1, \"compact\": true}")
            }
        }
        if type == .distribution, let q = query, q.metric != .responseTimeMs {
            c.fail(path + ".query.metric", "a distribution widget shows response_time_ms percentiles; got \(q.metric.rawValue)")
        }
        if (type == .bar || type == .table), let q = query, q.groupBy == nil {
            c.fail(path + ".query.group_by", "a \(type.rawValue) widget needs group_by (one of " + dimensions.names.joined(separator: ", ") + ")")
        }
        let thresholds = value["thresholds"].flatMap { parseThresholds($0, path: path + ".thresholds", &c) }
        var sparkline = false
        if let s = value["sparkline"] {
            if case .bool(let b) = s { sparkline = b } else { c.fail(path + ".sparkline", "must be true or false") }
            if sparkline, let k = kpi, k.trendDays == nil {
                c.fail(path + ".sparkline", "a kpi sparkline draws the daily trend; add \"trend\": true (or {\"days\": 30}) to the query")
            }
            if sparkline, let q = query, !q.metric.hasSeries {
                c.fail(path + ".sparkline", "\(q.metric.rawValue) has no per-bucket series to draw; metrics with one: " + Metric.allCases.filter(\.hasSeries).map(\.rawValue).joined(separator: ", "))
            }
        }
        var text: String? = nil
        if let t = value["text"] {
            if case .string(let s) = t { text = s } else { c.fail(path + ".text", "must be a string") }
        } else if type == .text {
            c.fail(path + ".text", "required for a text widget")
        }
        let position = value["position"].flatMap { parsePosition($0, path: path + ".position", &c) }
        guard ok else { return nil }
        return .init(id: id, type: type, title: title, query: query, kpi: kpi, unit: unit ?? query?.metric.unit ?? kpi?.kpi.unit ?? heatmap?.metric.unit,
                     format: format, thresholds: thresholds, sparkline: sparkline, text: text, position: position, heatmap: heatmap)
    }

    /// A heatmap query: `{"metric": "events", "window": "28d", "filter": "org_id:$org_id"}`,
    /// answered from hour rollups, so the window is whole days up to the hour retention.
    func parseHeatmapQuery(_ value: JSONValue, path: String, variables: [DashboardSpec.Variable], _ c: inout Context) -> HeatmapQuery? {
        guard case .object = value else { c.fail(path, "must be an object: {\"metric\": \"events\", \"window\": \"28d\"}"); return nil }
        c.unknownKeys(value, at: path, allowed: ["metric", "window", "filter"])
        let names = HeatmapQuery.metrics.map(\.rawValue).joined(separator: ", ")
        guard case .string(let name)? = value["metric"], let metric = Metric(rawValue: name), HeatmapQuery.metrics.contains(metric) else {
            c.fail(path + ".metric", "a heatmap shows one of " + names + " (from hour rollups)"); return nil
        }
        var window = "\(HeatmapQuery.defaultDays)d"
        var days = HeatmapQuery.defaultDays
        if let w = value["window"] {
            guard case .string(let s) = w, s.hasSuffix("d"), let n = Int(s.dropLast()), n >= 7, n <= maxHeatmapDays else {
                c.fail(path + ".window", "must be whole days from 7d to \(maxHeatmapDays)d (hour rollups are kept \(maxHeatmapDays) days), e.g. 28d"); return nil
            }
            (window, days) = (s, n)
        }
        var query = HeatmapQuery(metric: metric, window: window, days: days)
        if let f = value["filter"] {
            guard let filter = parseFilter(f, path: path + ".filter", variables: variables, &c) else { return nil }
            guard dimensions.index(of: filter.key) != nil else {
                c.fail(path + ".filter", "unknown dimension '\(filter.key)'; one of " + dimensions.names.joined(separator: ", ")); return nil
            }
            (query.filterKey, query.filterValue) = (filter.key, filter.value)
        }
        return query
    }

    func parseQuery(_ value: JSONValue, path: String, variables: [DashboardSpec.Variable], _ c: inout Context) -> DashboardSpec.Query? {
        guard case .object = value else { c.fail(path, "must be an object: {\"metric\": \"active_users\", \"window\": \"5m\"}"); return nil }
        c.unknownKeys(value, at: path, allowed: DashboardSpecParser.queryKeys)
        let metrics = Metric.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let name)? = value["metric"] else { c.fail(path + ".metric", "required: one of " + metrics); return nil }
        guard let metric = Metric(rawValue: name) else { c.fail(path + ".metric", "unknown metric '\(name)'; one of " + metrics); return nil }
        var window = "5m"
        var seconds = 300
        if let w = value["window"] {
            if case .string(let s) = w {
                do { seconds = try WindowSpec.parseSeconds(s); window = s } catch { c.fail(path + ".window", error.message); return nil }
            } else {
                c.fail(path + ".window", "must be a string such as 30s, 5m, 1h or 24h"); return nil
            }
        }
        var aggregation = metric.aggregations[0]
        for key in ["aggregation", "agg"] {
            guard let a = value[key] else { continue }
            if case .string(let s) = a, metric.aggregations.contains(s) { aggregation = s } else {
                c.fail(path + "." + key, "\(metric.rawValue) takes one of " + metric.aggregations.joined(separator: ", ")); return nil
            }
        }
        var filterKey: String? = nil
        var filterValue: String? = nil
        if let f = value["filter"] {
            guard let filter = parseFilter(f, path: path + ".filter", variables: variables, &c) else { return nil }
            (filterKey, filterValue) = (filter.key, filter.value)
        }
        var groupBy: String? = nil
        if let g = value["group_by"] {
            if case .string(let s) = g { groupBy = s } else { c.fail(path + ".group_by", "must be a dimension name"); return nil }
        }
        var top = 10
        if let t = value["top"] {
            if case .number(let n) = t, n == n.rounded(), n >= 1, n <= 1000 { top = Int(n) } else { c.fail(path + ".top", "must be an integer from 1 to 1000"); return nil }
        }
        // The shape must be answerable by the live windows (with a concrete filter value).
        let probe = MetricQuery(
            metric: metric, aggregation: aggregation, windowSeconds: seconds, groupBy: groupBy,
            filter: filterKey.map { .init(key: $0, value: filterValue?.hasPrefix("$") == true ? "chat_interaction" : filterValue!) }, top: top)
        do { try probe.validate(against: dimensions) } catch {
            let field = error.code == .badGroupBy ? ".group_by" : error.code == .badWindow ? ".window" : ".filter"
            c.fail(path + field, error.message)
            return nil
        }
        if filterValue?.hasPrefix("$") == true, groupBy != nil, filterKey != "event_type" {
            c.fail(path + ".filter", "a variable filter cannot be combined with group_by yet; drop one of them")
            return nil
        }
        return .init(metric: metric, aggregation: aggregation, window: window, windowSeconds: seconds, filterKey: filterKey,
                     filterValue: filterValue, groupBy: groupBy, top: top)
    }

    /// A widget filter: `"key:value"` or `"key:$variable"` with the variable declared.
    func parseFilter(_ f: JSONValue, path: String, variables: [DashboardSpec.Variable], _ c: inout Context) -> MetricQuery.Filter? {
        guard case .string(let s) = f, let filter = MetricQuery.Filter(parsing: s) else {
            c.fail(path, "must be \"key:value\" or \"key:$variable\", e.g. \"org_id:$org_id\""); return nil
        }
        if filter.value.hasPrefix("$"), !variables.contains(where: { $0.name == String(filter.value.dropFirst()) }) {
            let names = variables.map { "$" + $0.name }
            c.fail(path, "refers to variable \(filter.value), which is not declared in $.variables" + (names.isEmpty ? "" : " (declared: " + names.joined(separator: ", ") + ")"))
            return nil
        }
        return filter
    }

    static let kpiQueryKeys = ["kpi", "window", "until", "filter", "compare", "trend"]

    func parseKPIQuery(_ value: JSONValue, path: String, variables: [DashboardSpec.Variable], _ c: inout Context) -> DashboardSpec.KPIQuerySpec? {
        c.unknownKeys(value, at: path, allowed: DashboardSpecParser.kpiQueryKeys)
        let kpis = KPI.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let name)? = value["kpi"] else { c.fail(path + ".kpi", "must be a string: one of " + kpis); return nil }
        guard let kpi = KPI(rawValue: name) else { c.fail(path + ".kpi", "unknown kpi '\(name)'; one of " + kpis); return nil }
        var window = "30d"
        var days = 30
        if let w = value["window"] {
            guard case .string(let s) = w, s.hasSuffix("d"), let n = Int(s.dropLast()), n >= 1, n <= maxKPIDays else {
                c.fail(path + ".window", "a kpi window is whole days: 1d to \(maxKPIDays)d (history.day_retention_days), e.g. 7d, 30d, 90d"); return nil
            }
            window = s
            days = n
        }
        var filterKey: String? = nil
        var filterValue: String? = nil
        if let f = value["filter"] {
            guard let filter = parseFilter(f, path: path + ".filter", variables: variables, &c) else { return nil }
            (filterKey, filterValue) = (filter.key, filter.value)
            guard dimensions.index(of: filter.key) != nil else {
                c.fail(path + ".filter", "cannot filter on '\(filter.key)'; tracked dimensions are " + dimensions.names.joined(separator: ", ")); return nil
            }
            if kpi == .churnRate || kpi == .adoptionRate {
                c.fail(path + ".filter", "\(kpi.rawValue) needs exact user sets, kept for all traffic only; drop the filter"); return nil
            }
        }
        var compare: [ComparisonPeriod] = []
        if let cmp = value["compare"] {
            let periods = ComparisonPeriod.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .array(let items) = cmp else { c.fail(path + ".compare", "must be an array of " + periods); return nil }
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, let p = ComparisonPeriod(rawValue: s) else {
                    c.fail(path + ".compare[\(i)]", "unknown comparison; one of " + periods); return nil
                }
                if compare.contains(p) { c.fail(path + ".compare[\(i)]", "'\(s)' is listed twice"); return nil }
                compare.append(p)
            }
        }
        var trendDays: Int? = nil
        if let t = value["trend"] {
            switch t {
            case .bool(let b): trendDays = b ? 30 : nil
            case .object:
                c.unknownKeys(t, at: path + ".trend", allowed: ["days"])
                guard case .number(let n)? = t["days"], n == n.rounded(), n >= 3, n <= 365 else {
                    c.fail(path + ".trend.days", "must be an integer from 3 to 365"); return nil
                }
                trendDays = Int(n)
            default:
                c.fail(path + ".trend", "must be true, false or {\"days\": 30}"); return nil
            }
        }
        var untilYesterday = false
        if let u = value["until"] {
            guard case .string(let s) = u, s == "today" || s == "yesterday" else {
                c.fail(path + ".until", "must be \"today\" (default: the window includes today so far) or \"yesterday\" (whole days only)"); return nil
            }
            untilYesterday = s == "yesterday"
        }
        return .init(
            kpi: kpi, window: window, days: days, filterKey: filterKey, filterValue: filterValue, compare: compare, trendDays: trendDays,
            untilYesterday: untilYesterday)
    }

    func parseThresholds(_ value: JSONValue, path: String, _ c: inout Context) -> DashboardSpec.Thresholds? {
        guard case .object = value else {
            c.fail(path, "must be an object: {\"direction\": \"above\", \"warning\": {\"value\": 0.02}, \"critical\": {\"value\": 0.05}}")
            return nil
        }
        c.unknownKeys(value, at: path, allowed: ["direction", "ok", "warning", "critical"])
        var t = DashboardSpec.Thresholds(direction: .above, warning: nil, critical: nil,
                                         colors: ["ok": "#16a34a", "warning": "#f59e0b", "critical": "#dc2626"])
        if let d = value["direction"] {
            if case .string(let s) = d, let dir = DashboardSpec.Thresholds.Direction(rawValue: s) { t.direction = dir } else {
                c.fail(path + ".direction", "must be \"above\" (higher is worse) or \"below\" (lower is worse)")
            }
        }
        for level in ["ok", "warning", "critical"] {
            guard let l = value[level] else { continue }
            let lp = path + "." + level
            guard case .object = l else { c.fail(lp, "must be an object: {\"value\": 0.05, \"color\": \"#dc2626\"}"); continue }
            c.unknownKeys(l, at: lp, allowed: level == "ok" ? ["color"] : ["value", "color"])
            if let col = l["color"] {
                if case .string(let s) = col, DashboardSpecParser.isColor(s) { t.colors[level] = s } else { c.fail(lp + ".color", "must be a CSS hex colour such as #dc2626") }
            }
            if level != "ok" {
                if case .number(let n)? = l["value"] {
                    if level == "warning" { t.warning = n } else { t.critical = n }
                } else {
                    c.fail(lp + ".value", "required: the number at which the status becomes \(level)")
                }
            }
        }
        if let w = t.warning, let cr = t.critical, t.direction == .above ? w > cr : w < cr {
            c.fail(path + ".critical.value", "critical (\(cr)) must be \(t.direction == .above ? "above" : "below") warning (\(w)) when direction is \(t.direction.rawValue)")
        }
        return t
    }

    static func isColor(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.first == UInt8(ascii: "#"), u.count == 4 || u.count == 7 else { return false }
        return u.dropFirst().allSatisfy { JSONReader.hexValue($0) != nil }
    }
}
