import AsyncAlgorithms
import Logging
import PulseboardCore
import ServiceLifecycle

/// Evaluates the alert rules every `intervalMs` (live metrics from the windows, KPIs from
/// history) and, once a minute, the anomaly detector on the last minute's rates against the
/// same hour of the week in history. Every transition is recorded in the `AlertLog` and pushed
/// by the hub as an `alert` message on every stream.
public final class AlertService: Service, Sendable {
    let configuration: AlertConfiguration
    let log: AlertLog
    let hub: Hub
    let ingestor: Ingestor
    let intervalMs: Int
    let logger: Logger
    let baselines: BaselineCache

    public init(configuration: AlertConfiguration, log: AlertLog, hub: Hub, ingestor: Ingestor, intervalMs: Int = 1000, logger: Logger) {
        self.configuration = configuration
        self.log = log
        self.hub = hub
        self.ingestor = ingestor
        self.intervalMs = max(100, intervalMs)
        self.logger = logger
        self.baselines = BaselineCache()
    }

    public func run() async throws {
        while !ingestor.isReady {
            try await Task.sleep(for: .milliseconds(100))
        }
        let ended = log.update { tracker in
            let ids = Set(configuration.rules.map(\.id) + AnomalyMetric.allCases.map { "anomaly." + $0.rawValue })
            return tracker.retain(ids: ids, nowMs: ingestor.nowMillis()).map { .resolved($0) }
        }
        publish(ended)
        logger.info("alerts armed", metadata: [
            "rules": "\(configuration.rules.count)",
            "anomaly": "\(configuration.anomaly.map { $0.metrics.map(\.rawValue).joined(separator: ",") } ?? "off")",
        ])
        let armedMs = ingestor.nowMillis()
        var lastMinute = armedMs / 60_000
        for await _ in AsyncTimerSequence(interval: .milliseconds(intervalMs), clock: .continuous).cancelOnGracefulShutdown() {
            let now = ingestor.nowMillis()
            var transitions = evaluateRules(nowMs: now)
            if now / 60_000 != lastMinute {
                lastMinute = now / 60_000
                // Only minutes watched whole: the first one after start-up may hold a few
                // seconds of traffic (a client still connecting), which is not a drop.
                if now - 60_000 >= armedMs { transitions += evaluateAnomalies(nowMs: now) }
            }
            publish(transitions)
        }
    }

    /// One pass over the threshold rules at `nowMs`.
    public func evaluateRules(nowMs now: Int64) -> [AlertTracker.Transition] {
        guard !configuration.rules.isEmpty else { return [] }
        let source = hub.frameSource(nowMs: now)
        let values = configuration.rules.map { AlertService.value(of: $0, source: source) }
        return log.update { tracker in
            var out: [AlertTracker.Transition] = []
            for (rule, (value, n)) in zip(configuration.rules, values) {
                if let t = tracker.observe(rule, value: value, n: n, nowMs: now) { out.append(t) }
            }
            return out
        }
    }

    /// The rule's current value and sample size.
    static func value(of rule: AlertRule, source: some FrameSource) -> (Double?, Int) {
        switch rule.source {
        case .metric(let q):
            guard case .success(let r) = source.query(q) else { return (nil, 0) }
            return (r.value, r.sampleSize)
        case .kpi(let q):
            guard case .success(let r) = source.kpi(q) else { return (nil, 0) }
            return (r.value.value, r.value.n)
        }
    }

    /// The anomaly detector on the minute that just ended (the last 60 s of the live windows).
    public func evaluateAnomalies(nowMs now: Int64) -> [AlertTracker.Transition] {
        guard let settings = configuration.anomaly, let history = ingestor.history else { return [] }
        let detector = AnomalyDetector(settings: settings)
        var observed: [(AnomalyMetric, Double, AnomalyDetector.Baseline?)] = []
        for metric in settings.metrics {
            guard let count = AlertService.lastMinute(metric, ingestor: ingestor) else { continue }
            let baseline = baselines.baseline(metric, atMillis: now - 30_000, history: history, settings: settings, logger: logger)
            observed.append((metric, count, baseline))
        }
        return log.update { tracker in
            observed.compactMap { metric, count, baseline in
                detector.observe(metric, count: count, baseline: baseline, nowMs: now, tracker: &tracker)
            }
        }
    }

    /// Events of `metric` in the last 60 s of the live windows.
    static func lastMinute(_ metric: AnomalyMetric, ingestor: Ingestor) -> Double? {
        let filter = metric.eventType.map { MetricQuery.Filter(key: "event_type", value: $0.name) }
        guard let r = try? ingestor.query(MetricQuery(metric: .events, windowSeconds: 60, filter: filter)) else { return nil }
        return r.value ?? 0
    }

    func publish(_ transitions: [AlertTracker.Transition]) {
        for t in transitions {
            let a = t.alert
            let metadata: Logger.Metadata = [
                "alert": "\(a.rule)", "severity": "\(a.severity.rawValue)", "value": "\(JSONWriter.rounded(a.value))", "condition": "\(a.condition)",
            ]
            switch t {
            case .fired: logger.warning("alert fired", metadata: metadata)
            case .escalated: logger.warning("alert escalated", metadata: metadata)
            case .resolved: logger.info("alert resolved", metadata: metadata)
            }
            hub.publish(t)
        }
    }
}
