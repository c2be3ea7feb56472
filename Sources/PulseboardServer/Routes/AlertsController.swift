import Hummingbird
import PulseboardCore
import PulseboardEngine

/// Alerts: `GET /api/alerts` (firing and past alerts, newest first) and `GET /api/alerts/rules`
/// (the configured rules and anomaly settings).
struct AlertsController<Context: RequestContext>: Sendable {
    let log: AlertLog
    let configuration: AlertConfiguration
    let authorizer: Authorizer

    func addRoutes(to router: Router<Context>) {
        router.get("/api/alerts") { request, _ in try self.list(request) }
        router.get("/api/alerts/rules") { request, _ in try self.rules(request) }
    }

    func list(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let params = request.uri.queryParameters
        var state: Alert.State? = nil
        if let s = params.get("state") {
            guard let v = Alert.State(rawValue: s) else {
                throw APIError(.badRequest, code: "bad_state", "state must be firing or resolved (got '\(s)')")
            }
            state = v
        }
        var limit = 100
        if let l = params.get("limit") {
            guard let n = Int(l), (1...log.limit).contains(n) else {
                throw APIError(.badRequest, code: "bad_limit", "limit must be an integer from 1 to \(log.limit) (alerts.history_limit)")
            }
            limit = n
        }
        let firing = log.firing
        let body = JSONValue.object([
            ("firing", .number(Double(firing.count))),
            ("alerts", .array(log.recent(limit: limit, state: state).map(\.json))),
        ])
        return .json(body.jsonBytes)
    }

    func rules(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let rules: [JSONValue] = configuration.rules.map { r in
            var m: [(String, JSONValue)] = [
                ("id", .string(r.id)), ("title", .string(r.title)), ("condition", .string(r.condition)),
                ("severity", .string(r.severity.rawValue)), ("for_seconds", .number(Double(r.forMs / 1000))),
                ("hysteresis", .number(r.hysteresis)), ("min_samples", .number(Double(r.minSamples))),
            ]
            switch r.source {
            case .metric(let q): m.append(("window", .string(WindowSpec.format(q.windowSeconds))))
            case .kpi(let q): m.append(("window", .string("\(q.days)d")))
            }
            m.append(("recommendation", .string(r.recommendation)))
            return .object(m)
        }
        var anomaly: JSONValue = .null
        if let a = configuration.anomaly {
            anomaly = .object([
                ("metrics", .array(a.metrics.map { .string($0.rawValue) })), ("baseline_weeks", .number(Double(a.baselineWeeks))),
                ("min_weeks", .number(Double(a.minWeeks))), ("warning_z", .number(a.warningZ)), ("critical_z", .number(a.criticalZ)),
                ("for_minutes", .number(Double(a.forMinutes))), ("min_baseline", .number(a.minBaseline)),
                ("spread_floor", .number(a.spreadFloor)),
            ])
        }
        return .json(JSONValue.object([("rules", .array(rules)), ("anomaly", anomaly)]).jsonBytes)
    }
}
