/// One alert: a rule or an anomaly detector that fired, with the value that made it fire and,
/// once it resolves, when. Pushed as an `alert` message on every stream, listed in frames
/// (`alerts`, firing only) and in `GET /api/alerts` (firing and past).
public struct Alert: Sendable, Equatable {
    public enum State: String, Sendable { case firing, resolved }
    public enum Kind: String, Sendable { case threshold, anomaly }

    /// Unique per occurrence: `rule@startedMs`.
    public var id: String
    /// The rule id (`high_error_rate`) or detector (`anomaly.events`); one firing alert per rule.
    public var rule: String
    public var kind: Kind
    public var severity: AlertSeverity
    public var state: State
    public var title: String
    /// What was breached, e.g. `error_rate > 0.05`, or `events per minute, |z| ≥ 4`.
    public var condition: String
    /// The latest value seen (the per-minute rate for anomalies).
    public var value: Double
    public var threshold: Double?
    /// Anomalies: the robust z-score and the baseline median.
    public var score: Double?
    public var expected: Double?
    public var startedMs: Int64
    public var resolvedMs: Int64?
    public var recommendation: String

    public init(
        rule: String, kind: Kind, severity: AlertSeverity, title: String, condition: String, value: Double,
        threshold: Double? = nil, score: Double? = nil, expected: Double? = nil, startedMs: Int64, recommendation: String
    ) {
        self.id = rule + "@" + String(startedMs)
        self.rule = rule
        self.kind = kind
        self.severity = severity
        self.state = .firing
        self.title = title
        self.condition = condition
        self.value = value
        self.threshold = threshold
        self.score = score
        self.expected = expected
        self.startedMs = startedMs
        self.recommendation = recommendation
    }

    /// The alert as JSON (API, frames, messages, the alert log).
    public var json: JSONValue {
        var m: [(String, JSONValue)] = [
            ("id", .string(id)), ("rule", .string(rule)), ("kind", .string(kind.rawValue)),
            ("severity", .string(severity.rawValue)), ("state", .string(state.rawValue)), ("title", .string(title)),
            ("condition", .string(condition)), ("value", .number(JSONWriter.rounded(value))),
        ]
        if let threshold { m.append(("threshold", .number(threshold))) }
        if let score { m.append(("score", .number(JSONWriter.rounded(score)))) }
        if let expected { m.append(("expected", .number(JSONWriter.rounded(expected)))) }
        m.append(("started_at", .string(Timestamp.format(millis: startedMs))))
        if let resolvedMs { m.append(("resolved_at", .string(Timestamp.format(millis: resolvedMs)))) }
        m.append(("recommendation", .string(recommendation)))
        return .object(m)
    }

    /// Reads back `json` (the alert log); nil when a field is missing.
    public init?(json v: JSONValue) {
        guard case .string(let id)? = v["id"], case .string(let rule)? = v["rule"],
              case .string(let k)? = v["kind"], let kind = Kind(rawValue: k),
              case .string(let sev)? = v["severity"], let severity = AlertSeverity(rawValue: sev),
              case .string(let st)? = v["state"], let state = State(rawValue: st),
              case .string(let title)? = v["title"], case .string(let condition)? = v["condition"],
              case .number(let value)? = v["value"], case .string(let started)? = v["started_at"],
              let startedMs = Timestamp.parseMillis(started), case .string(let rec)? = v["recommendation"]
        else { return nil }
        self.init(rule: rule, kind: kind, severity: severity, title: title, condition: condition, value: value, startedMs: startedMs, recommendation: rec)
        self.id = id
        self.state = state
        if case .number(let t)? = v["threshold"] { threshold = t }
        if case .number(let s)? = v["score"] { score = s }
        if case .number(let e)? = v["expected"] { expected = e }
        if case .string(let r)? = v["resolved_at"] { resolvedMs = Timestamp.parseMillis(r) }
    }
}
