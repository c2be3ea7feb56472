import Foundation
import PulseboardCore
import Testing

@Suite struct AlertTests {
    static let errorRate = AlertRule(
        id: "high_error_rate", title: "Error rate above 5 %",
        source: .metric(MetricQuery(metric: .errorRate, windowSeconds: 300)), comparator: .above, threshold: 0.05,
        severity: .critical, forMs: 60_000, hysteresis: 0.01, minSamples: 30)

    @Test func firesAfterTheForDurationAndResolvesPastTheHysteresisBand() throws {
        var t = AlertTracker()
        let r = AlertTests.errorRate
        #expect(t.observe(r, value: 0.06, n: 100, nowMs: 0) == nil, "pending, not firing")
        #expect(t.observe(r, value: 0.07, n: 100, nowMs: 30_000) == nil)
        #expect(t.observe(r, value: 0.04, n: 100, nowMs: 45_000) == nil, "a dip cancels the pending period")
        #expect(t.observe(r, value: 0.06, n: 100, nowMs: 50_000) == nil)
        #expect(t.observe(r, value: 0.06, n: 100, nowMs: 100_000) == nil, "50 s < for 60 s")
        let step = t.observe(r, value: 0.08, n: 100, nowMs: 110_000)
        let fired = try #require(step)
        guard case .fired(let a) = fired else { Issue.record("expected fired, got \(fired)"); return }
        #expect(a.startedMs == 50_000, "the alert started when the condition began to hold")
        #expect(a.severity == .critical && a.state == .firing && a.value == 0.08 && a.threshold == 0.05)
        #expect(a.condition == "error_rate > 0.05")
        #expect(a.recommendation.contains("error_type"))
        #expect(t.isFiring("high_error_rate"))
        #expect(t.observe(r, value: 0.045, n: 100, nowMs: 120_000) == nil, "0.045 is inside the band (> 0.04): still firing")
        #expect(t.observe(r, value: 0.041, n: 100, nowMs: 125_000) == nil)
        #expect(t.observe(r, value: 0.02, n: 10, nowMs: 126_000) == nil, "too few samples: ignored")
        let last = t.observe(r, value: 0.039, n: 100, nowMs: 130_000)
        let resolved = try #require(last)
        guard case .resolved(let b) = resolved else { Issue.record("expected resolved"); return }
        #expect(b.id == a.id && b.resolvedMs == 130_000 && b.value == 0.039 && b.state == .resolved)
        #expect(t.firing.isEmpty)
    }

    @Test func belowRulesAndZeroForFireAtOnce() throws {
        var t = AlertTracker()
        let r = AlertRule(
            id: "low_engagement", title: "Low engagement", source: .kpi(KPIQuery(kpi: .adoptionRate, days: 7)),
            comparator: .below, threshold: 0.3, severity: .warning, hysteresis: 0.02)
        #expect(t.observe(r, value: 0.31, n: 100, nowMs: 0) == nil)
        #expect(t.observe(r, value: nil, n: 0, nowMs: 1000) == nil, "no data: no change")
        guard case .fired(let a)? = t.observe(r, value: 0.29, n: 100, nowMs: 2000) else { Issue.record("expected fired"); return }
        #expect(a.condition == "adoption_rate < 0.3" && a.startedMs == 2000)
        #expect(t.observe(r, value: 0.315, n: 100, nowMs: 3000) == nil, "0.315 < 0.32: still firing")
        guard case .resolved? = t.observe(r, value: 0.32, n: 100, nowMs: 4000) else { Issue.record("expected resolved"); return }
    }

    @Test func robustBaselineIgnoresOneBadWeek() throws {
        // Four earlier weeks of this hour: 100, 104, 98 events per minute and an outage week at 10.
        let b = try #require(AnomalyDetector.Baseline(perMinute: [100, 104, 98, 10], minWeeks: 3))
        // Median (98 + 100) / 2 = 99; deviations 1, 5, 1, 89 → MAD (1 + 5) / 2 = 3.
        #expect(b.median == 99 && b.mad == 3)
        // Spread max(1.4826 × 3, 10 % of 99) = 9.9; z = (x − 99) / √(9.9² + 99) = (x − 99) / 14.036
        #expect(abs(b.score(140) - 2.921) < 0.001)
        #expect(abs(b.score(40) - -4.203) < 0.001)
        // Without the floor the week-to-week spread is 4.45: z = (x − 99) / √(4.45² + 99) = (x − 99) / 10.899
        let raw = try #require(AnomalyDetector.Baseline(perMinute: [100, 104, 98, 10], minWeeks: 3, spreadFloor: 0))
        #expect(abs(raw.score(140) - 3.762) < 0.001)
        #expect(AnomalyDetector.Baseline(perMinute: [100, 104], minWeeks: 3) == nil, "too few weeks: still learning")
    }

    @Test func anomaliesNeedConsecutiveMinutesEscalateAndResolve() throws {
        var settings = AnomalyDetector.Settings()  // warning 4, critical 6
        settings.forMinutes = 2
        let detector = AnomalyDetector(settings: settings)
        let baseline = AnomalyDetector.Baseline(median: 100, mad: 0, weeks: 4)  // σ = 10
        var t = AlertTracker()
        #expect(detector.observe(.events, count: 150, baseline: baseline, nowMs: 0, tracker: &t) == nil, "one minute is not enough")
        guard case .fired(let a)? = detector.observe(.events, count: 155, baseline: baseline, nowMs: 60_000, tracker: &t) else {
            Issue.record("expected fired"); return
        }
        #expect(a.kind == .anomaly && a.severity == .warning && a.rule == "anomaly.events" && a.expected == 100)
        #expect(abs((a.score ?? 0) - 5.5) < 1e-9 && a.startedMs == 0)
        #expect(a.title.contains("above"))
        guard case .escalated(let e)? = detector.observe(.events, count: 170, baseline: baseline, nowMs: 120_000, tracker: &t) else {
            Issue.record("expected escalated"); return
        }
        #expect(e.severity == .critical && e.id == a.id)
        #expect(detector.observe(.events, count: 135, baseline: baseline, nowMs: 180_000, tracker: &t) == nil, "z 3.5 ≥ 3: still firing")
        guard case .resolved? = detector.observe(.events, count: 120, baseline: baseline, nowMs: 240_000, tracker: &t) else {
            Issue.record("expected resolved"); return
        }
        // Errors only flag rises; drops of traffic flag too.
        #expect(detector.observe(.errors, count: 0, baseline: baseline, nowMs: 0, tracker: &t) == nil)
        #expect(detector.observe(.errors, count: 0, baseline: baseline, nowMs: 60_000, tracker: &t) == nil)
        _ = detector.observe(.interactions, count: 20, baseline: baseline, nowMs: 0, tracker: &t)
        guard case .fired(let drop)? = detector.observe(.interactions, count: 20, baseline: baseline, nowMs: 60_000, tracker: &t) else {
            Issue.record("expected a drop to fire"); return
        }
        #expect(drop.title.contains("below") && drop.severity == .critical)
    }

    @Test func alertsRoundTripThroughJSON() throws {
        var a = Alert(
            rule: "anomaly.errors", kind: .anomaly, severity: .critical, title: "t", condition: "c", value: 12, score: 7.5,
            expected: 1.5, startedMs: 1_790_000_000_000, recommendation: "r")
        a.state = .resolved
        a.resolvedMs = 1_790_000_120_000
        #expect(Alert(json: a.json) == a)
    }

    @Test func rulesFileErrorsNameThePath() throws {
        let text = """
            {"rules": [
              {"id": "a", "query": {"metric": "error_rate", "window": "5m"}, "condition": "> 0.05", "severity": "critical"},
              {"id": "a", "query": {"metric": "error_rate"}, "condition": "> 0.05"},
              {"id": "b", "query": {"metric": "nope"}, "condition": "over 5", "severity": "urgent", "for": "soon"}
            ],
             "anomaly": {"warning_z": 5, "critical_z": 3, "colour": 1}}
            """
        guard case .failure(let e) = AlertRulesParser().parse(Array(text.utf8)) else { Issue.record("expected errors"); return }
        let paths = e.errors.map(\.path)
        #expect(paths.contains("$.rules[1].id"))
        #expect(paths.contains("$.rules[2].query.metric"))
        #expect(paths.contains("$.rules[2].condition"))
        #expect(paths.contains("$.rules[2].severity"))
        #expect(paths.contains("$.rules[2].for"))
        #expect(paths.contains("$.anomaly.critical_z"))
        #expect(paths.contains("$.anomaly.colour"))
        #expect(e.errors.first { $0.path == "$.rules[2].condition" }?.line == 4)
    }

    @Test func shippedRulesParse() throws {
        let data = try #require(FileManager.default.contents(atPath: "config/alerts.json"))
        let config = try AlertRulesParser(dimensions: DimensionSet(["event_type", "model_used"])).parse(Array(data)).get()
        #expect(config.rules.map(\.id) == ["high_error_rate", "low_engagement", "slow_responses"])
        #expect(config.rules[0].condition == "error_rate > 0.05" && config.rules[0].severity == .critical && config.rules[0].forMs == 60_000)
        #expect(config.rules[1].condition == "adoption_rate < 0.3")
        #expect(config.rules[2].condition == "response_time_ms.p95 > 3000")
        #expect(config.anomaly?.metrics == [.events, .interactions, .errors])
    }
}
