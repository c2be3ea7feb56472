import Foundation
import NIOCore
import NIOEmbedded
import PulseboardCore
import Testing
@testable import PulseboardEngine

@Suite struct AlertServiceTests {
    static let spec: DashboardSpec = {
        let text = """
            {"id": "ops", "title": "Ops", "refresh_ms": 500,
             "widgets": [
               {"id": "errors", "type": "stat", "query": {"metric": "error_rate", "window": "5m"}},
               {"id": "alerts", "type": "alert_list"}
             ]}
            """
        return try! DashboardSpecParser().parse(Array(text.utf8), fileId: "ops").get()
    }()

    static let rule = AlertRule(
        id: "high_error_rate", title: "Error rate above 5 %", source: .metric(MetricQuery(metric: .errorRate, windowSeconds: 300)),
        comparator: .above, threshold: 0.05, severity: .critical, forMs: 60_000, hysteresis: 0.01, minSamples: 20)

    func send(_ ingestor: Ingestor, chats: Int, errors: Int, at ms: Int64) throws {
        let events = (0..<chats).map { TestEvent(type: "chat_interaction", timestampMs: ms, user: "u\($0 % 7)", responseTimeMs: 800) }
            + (0..<errors).map { TestEvent(type: "error_tracking", timestampMs: ms, user: "u\($0 % 7)") }
        _ = try ingestor.ingest(TestEvent.batch(events), format: .json)
    }

    @Test func anAlertFiresIsPushedListedAndResolvesOnceAcrossARestart() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let ingestor = try makeIngestor(directory: dir + "/journal", clock: clock)
        let log = try AlertLog(path: dir + "/alerts.ndjson")
        let hub = Hub(configuration: PushConfiguration(), ingestor: ingestor, telemetry: Telemetry(), alerts: log)
        let service = AlertService(configuration: AlertConfiguration(rules: [AlertServiceTests.rule], anomaly: nil), log: log, hub: hub, ingestor: ingestor, logger: testLogger)
        let loop = EmbeddedEventLoop()
        let queue = SubscriberQueue(capacity: 100, eventLoop: loop, clock: { clock.nowMillis() })
        let sub = try hub.subscribe(spec: AlertServiceTests.spec, variables: [:], since: nil, subscriber: queue)
        queue.delivered(upTo: sub.seq)
        hub.register(queue)
        var client = StreamClient()
        client.receive(sub.initial)
        #expect(client.frame["alerts"] == .object([]))

        // 30 chats and 3 errors: error rate 0.1 > 0.05, pending for the first minute.
        try send(ingestor, chats: 30, errors: 3, at: clock.nowMillis())
        #expect(service.evaluateRules(nowMs: clock.nowMillis()).isEmpty)
        clock.advance(byMillis: 61_000)
        let fired = service.evaluateRules(nowMs: clock.nowMillis())
        #expect(fired.count == 1)
        service.publish(fired)
        hub.tick()
        loop.run()
        guard case .frames(let frames)? = queue.tryTake() else { Issue.record("nothing delivered"); return }
        let events = SSEEvent.parse(frames)
        let alert = try #require(events.first { $0.event == "alert" }?.data)
        #expect(alert["transition"] == .string("fired") && alert["rule"] == .string("high_error_rate"))
        #expect(alert["severity"] == .string("critical") && alert["value"] == .number(0.1) && alert["condition"] == .string("error_rate > 0.05"))
        client.receive(frames)
        #expect(client.frame["alerts"]?["high_error_rate"]?["state"] == .string("firing"))
        #expect(client.frame["widgets"]?["alerts"]?["firing"] == .number(1))
        #expect(client.frame == hub.frame(key: sub.key), "deltas carry the alerts patch")

        // A restart keeps the alert firing and does not fire it again.
        let reopened = try AlertLog(path: dir + "/alerts.ndjson")
        #expect(reopened.firing.map(\.rule) == ["high_error_rate"])
        let again = AlertService(configuration: AlertConfiguration(rules: [AlertServiceTests.rule], anomaly: nil), log: reopened, hub: hub, ingestor: ingestor, logger: testLogger)
        #expect(again.evaluateRules(nowMs: clock.nowMillis()).isEmpty)

        // 0.045 stays inside the hysteresis band; diluted to 3 / 100 = 0.03 it resolves.
        try send(ingestor, chats: 37, errors: 0, at: clock.nowMillis())
        #expect(again.evaluateRules(nowMs: clock.nowMillis()).isEmpty, "3 / 67 = 0.045 > 0.04: still firing")
        try send(ingestor, chats: 33, errors: 0, at: clock.nowMillis())
        let resolved = again.evaluateRules(nowMs: clock.nowMillis())
        guard case .resolved(let r)? = resolved.first else { Issue.record("expected resolved, got \(resolved)"); return }
        #expect(r.startedMs == 1_790_000_000_000 && r.resolvedMs == clock.nowMillis())
        let history = try AlertLog(path: dir + "/alerts.ndjson").recent(limit: 10)
        #expect(history.map(\.state) == [.resolved], "one alert in the history, resolved")
    }
}
