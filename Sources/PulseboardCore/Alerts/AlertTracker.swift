/// The fire/resolve state machine of every rule and anomaly detector, by rule id. Pure: the
/// caller observes values with a clock and gets the transitions to publish.
///
/// A breach starts a pending period; the alert fires once the condition has held for the
/// rule's `for` duration (a non-breaching value in between cancels it). A firing alert
/// resolves only when the value is back past the hysteresis band.
public struct AlertTracker: Sendable {
    enum Phase: Sendable {
        case pending(sinceMs: Int64)
        case firing(Alert)
    }

    public enum Transition: Sendable, Equatable {
        case fired(Alert)
        /// A firing alert became more severe (anomaly scores).
        case escalated(Alert)
        case resolved(Alert)

        public var alert: Alert {
            switch self {
            case .fired(let a), .escalated(let a), .resolved(let a): a
            }
        }
    }

    var phases: [String: Phase] = [:]

    public init() {}

    /// Firing alerts, most severe first, then oldest.
    public var firing: [Alert] {
        phases.values.compactMap { if case .firing(let a) = $0 { a } else { nil } }
            .sorted { $0.severity != $1.severity ? $0.severity > $1.severity : $0.startedMs < $1.startedMs }
    }

    /// Whether rule `id` is firing.
    public func isFiring(_ id: String) -> Bool {
        if case .firing? = phases[id] { true } else { false }
    }

    /// Restores an alert that was firing when the server stopped.
    public mutating func restore(_ alert: Alert) {
        phases[alert.rule] = .firing(alert)
    }

    /// Observes a threshold rule's current value (nil: no data). Values from fewer than the
    /// rule's `min_samples` neither fire nor resolve, and cancel a pending period.
    public mutating func observe(_ rule: AlertRule, value: Double?, n: Int, nowMs: Int64) -> Transition? {
        guard let value, value.isFinite, n >= rule.minSamples else {
            if case .pending? = phases[rule.id] { phases[rule.id] = nil }
            return nil
        }
        return observe(
            id: rule.id, value: value, breached: rule.breached(value), recovered: rule.recovered(value), forMs: rule.forMs,
            severity: rule.severity, nowMs: nowMs
        ) {
            Alert(
                rule: rule.id, kind: .threshold, severity: rule.severity, title: rule.title, condition: rule.condition,
                value: value, threshold: rule.threshold, startedMs: nowMs, recommendation: rule.recommendation)
        }
    }

    /// The general step: `breached` starts or continues a pending period, which fires after
    /// `forMs`; a firing alert takes the latest value and severity, and resolves when `recovered`.
    public mutating func observe(
        id: String, value: Double, breached: Bool, recovered: Bool, forMs: Int64, severity: AlertSeverity, nowMs: Int64,
        score: Double? = nil, make: () -> Alert
    ) -> Transition? {
        switch phases[id] {
        case nil:
            guard breached else { return nil }
            if forMs > 0 {
                phases[id] = .pending(sinceMs: nowMs)
                return nil
            }
            return fire(id, make())
        case .pending(let since)?:
            guard breached else {
                phases[id] = nil
                return nil
            }
            guard nowMs - since >= forMs else { return nil }
            var alert = make()
            alert.startedMs = since
            alert.id = id + "@" + String(since)
            return fire(id, alert)
        case .firing(var alert)?:
            alert.value = value
            if let score { alert.score = score }
            if recovered {
                alert.state = .resolved
                alert.resolvedMs = nowMs
                phases[id] = nil
                return .resolved(alert)
            }
            let escalated = breached && severity > alert.severity
            if escalated { alert.severity = severity }
            phases[id] = .firing(alert)
            return escalated ? .escalated(alert) : nil
        }
    }

    mutating func fire(_ id: String, _ alert: Alert) -> Transition {
        phases[id] = .firing(alert)
        return .fired(alert)
    }

    /// Forgets rules no longer configured; returns their firing alerts, resolved at `nowMs`.
    public mutating func retain(ids: Set<String>, nowMs: Int64) -> [Alert] {
        var ended: [Alert] = []
        for (id, phase) in phases where !ids.contains(id) {
            if case .firing(var a) = phase {
                a.state = .resolved
                a.resolvedMs = nowMs
                ended.append(a)
            }
            phases[id] = nil
        }
        return ended
    }
}
