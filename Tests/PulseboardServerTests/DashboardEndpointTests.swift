import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import Testing
@testable import PulseboardServer

@Suite struct DashboardEndpointTests {
    static let dashboards = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/dashboards"

    func config() -> PulseboardConfiguration {
        testConfiguration { $0.paths.dashboards = DashboardEndpointTests.dashboards }
    }

    static func containsNull(_ v: JSONValue) -> Bool {
        switch v {
        case .null: true
        case .array(let a): a.contains(where: containsNull)
        case .object(let m): m.contains { containsNull($0.1) }
        default: false
        }
    }

    @Test func listsAndServesTheShippedDashboards() async throws {
        try await withApp(config()) { client in
            let (s, list) = try await client.getJSON("/api/dashboards")
            #expect(s == .ok)
            let ids = list?.array?.compactMap { $0["id"]?.string } ?? []
            #expect(ids == ["ai-performance", "engagement", "executive", "wallboard"])
            #expect(list?.array?.first { $0["id"]?.string == "engagement" }?["widgets"]?.number == 6)
            let (s2, spec) = try await client.getJSON("/api/dashboards/engagement")
            #expect(s2 == .ok)
            #expect(spec?["title"]?.string == "User engagement")
            let (s3, errors) = try await client.getJSON("/api/dashboards/engagement/errors")
            #expect(s3 == .ok)
            #expect(errors?["valid"] == .bool(true))
            let (s4, missing) = try await client.getJSON("/api/dashboards/nope/snapshot")
            #expect(s4 == .notFound)
            #expect(missing?.errorCode == "unknown_dashboard")
        }
    }

    @Test func snapshotHoldsTheLiveValuesOfEveryWidget() async throws {
        try await withApp(config()) { client in
            let chatAcme = #"{"event_type":"chat_interaction","user_id":"a1","context":{"org_id":"acme"},"properties":{"thread_id":"t","message_id":"m","message_type":"ai_response","prompt_length":1,"is_follow_up":false,"response_time_ms":1200,"model_used":"gpt-4o","tokens_consumed":1000}}"#
            let errorGlobex = #"{"event_type":"error_tracking","user_id":"g1","context":{"org_id":"globex"},"properties":{"error_type":"x","error_message":"y","user_impact":"low"}}"#
            let (s, _, _) = try await client.ingest(#"{"events":[\#(chatAcme),\#(errorGlobex)]}"#)
            #expect(s == .ok)

            let (status, frame) = try await client.getJSON("/api/dashboards/engagement/snapshot")
            #expect(status == .ok)
            let f = try #require(frame)
            #expect(f["dashboard"]?.string == "engagement")
            #expect(f["widgets"]?["active_users"]?["value"]?.number == 2)
            #expect(f["widgets"]?["avg_response"]?["value"]?.number == 1200)
            #expect(f["widgets"]?["avg_response"]?["status"]?.string == "ok")
            #expect(f["widgets"]?["error_rate"]?["value"]?.number == 1)
            #expect(f["widgets"]?["error_rate"]?["status"]?.string == "critical")
            #expect(f["widgets"]?["events_by_type"]?["groups"]?["chat_interaction"]?.number == 1)
            guard case .object(let series)? = f["widgets"]?["messages_per_sec"]?["series"] else { Issue.record("no series"); return }
            // One point per 1 s bucket of the 5 min window after the second the first event
            // arrived in (that one and those before are unknown, not 0): none or a few zeros.
            #expect(series.count <= 3)
            #expect(series.allSatisfy { $0.1.number == 0 })
            // The rate counts only whole seconds after the first event's, or that second alone
            // while it is the current one: 1 message/s then, 0 once it is over.
            #expect([0.0, 1.0].contains(f["widgets"]?["messages_per_sec"]?["value"]?.number ?? -1))
            #expect(!DashboardEndpointTests.containsNull(f))

            let (_, acme) = try await client.getJSON("/api/dashboards/engagement/snapshot?org_id=acme")
            #expect(acme?["widgets"]?["active_users"]?["value"]?.number == 1)
            #expect(acme?["widgets"]?["error_rate"]?["value"]?.number == 0)
            let (s2, bad) = try await client.getJSON("/api/dashboards/engagement/snapshot?team=x")
            #expect(s2 == .badRequest)
            #expect(bad?.errorCode == "bad_variables")

            let (_, ai) = try await client.getJSON("/api/dashboards/ai-performance/snapshot")
            let p95 = try #require(ai?["widgets"]?["response_distribution"]?["percentiles"]?["p95"]?.number)
            #expect(abs(p95 - 1200) / 1200 <= 0.01)
            let spend = try #require(ai?["widgets"]?["spend_by_model"]?["groups"]?["gpt-4o"]?.number)
            #expect(abs(spend - 0.005) < 1e-9)
        }
    }

    @Test func validateReportsEveryErrorWithItsPosition() async throws {
        try await withApp(config()) { client in
            let body = "{\"id\": \"x\", \"title\": \"X\",\n \"widgets\": [{\"id\": \"a\", \"type\": \"stat\", \"query\": {\"metric\": \"active_users\", \"window\": \"90d\"}}]}"
            let (s, j) = try await client.execute(uri: "/api/dashboards/validate", method: .post, body: ByteBuffer(string: body)) { r in
                (r.status, try? JSONValue.parse(Array(r.body.readableBytesView)))
            }
            #expect(s == .ok)
            #expect(j?["valid"] == .bool(false))
            let e = try #require(j?["errors"]?.array?.first)
            #expect(e["path"]?.string == "$.widgets[0].query.window")
            #expect(e["line"]?.number == 2)
            let secondLine = String(body.split(separator: "\n")[1])
            let column = secondLine.distance(from: secondLine.startIndex, to: secondLine.range(of: #""90d""#)!.lowerBound) + 1
            #expect(e["column"]?.number == Double(column))
            let ok = try await client.execute(uri: "/api/dashboards/validate", method: .post, body: ByteBuffer(string: #"{"id":"x","title":"X","widgets":[{"id":"t","type":"text","text":"hi"}]}"#)) { String(buffer: $0.body) }
            #expect(ok.contains(#""valid":true"#))
        }
    }
}
