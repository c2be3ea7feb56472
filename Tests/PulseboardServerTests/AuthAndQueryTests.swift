import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite struct AuthAndQueryTests {
    static let keys = [
        APIKey(name: "sdk", secret: "ingest-secret-0123456789", scopes: [.ingest]),
        APIKey(name: "viewer", secret: "viewer-secret-0123456789", scopes: [.read]),
        APIKey(name: "ops", secret: "admin-secret-0123456789", scopes: [.admin]),
    ]

    @Test func ingestNeedsAKeyWithIngestScope() async throws {
        try await withApp(testConfiguration { $0.apiKeys = AuthAndQueryTests.keys }) { client in
            let batch = #"{"events":[{"event_type":"x"}],"context":{"user_id":"u"}}"#
            let (s1, h1, j1) = try await client.ingest(batch)
            #expect(s1 == .unauthorized)
            #expect(j1?.errorCode == "unauthorized")
            #expect(h1[.wwwAuthenticate] == "Bearer")
            let (s2, _, _) = try await client.ingest(batch, headers: [.authorization: "Bearer wrong-secret-0123456789"])
            #expect(s2 == .unauthorized)
            let (s3, _, j3) = try await client.ingest(batch, headers: [.authorization: "Bearer viewer-secret-0123456789"])
            #expect(s3 == .forbidden)
            #expect(j3?.errorCode == "forbidden")
            let (s4, _, _) = try await client.ingest(batch, headers: [.authorization: "Bearer ingest-secret-0123456789"])
            #expect(s4 == .ok)
            let (s5, _, _) = try await client.ingest(batch, headers: [HTTPField.Name("X-Pulseboard-Key")!: "admin-secret-0123456789"])
            #expect(s5 == .ok)
            // Read endpoints: read scope, also as ?key= for EventSource and wallboards.
            let (q1, _) = try await client.getJSON("/api/metrics/query?metric=events")
            #expect(q1 == .unauthorized)
            let (q2, j) = try await client.getJSON("/api/metrics/query?metric=events&key=viewer-secret-0123456789")
            #expect(q2 == .ok)
            #expect(j?["value"]?.number == 2)
            // sendBeacon cannot set headers: an ingest key may come as ?key= (text/plain is read
            // as JSON); an admin key never does, since URLs end up in logs.
            let (s6, _, _) = try await client.ingest(batch, contentType: "text/plain", query: "?key=ingest-secret-0123456789")
            #expect(s6 == .ok)
            let (s7, _, _) = try await client.ingest(batch, query: "?key=admin-secret-0123456789")
            #expect(s7 == .unauthorized)
            let (m1, _) = try await client.getJSON("/api/metrics/query?metric=events&key=admin-secret-0123456789")
            #expect(m1 == .unauthorized)
            let health = try await client.execute(uri: "/health", method: .get) { $0.status }
            #expect(health == .ok)
        }
    }

    @Test func nonLoopbackWithoutKeysRefusesToStart() throws {
        var c = testConfiguration()
        c.server.host = "0.0.0.0"
        #expect(throws: ConfigurationError.self) { try c.validate() }
        do {
            try c.validate()
        } catch {
            #expect(error.key == "auth.keys")
            #expect(error.message.contains("0.0.0.0"))
        }
        c.apiKeys = AuthAndQueryTests.keys
        try c.validate()
    }

    @Test func corsEchoesAllowedOriginsOnly() async throws {
        try await withApp(testConfiguration { $0.server.corsAllowedOrigins = ["https://app.example"] }) { client in
            let pre = try await client.execute(
                uri: "/api/analytics/events", method: .options,
                headers: [.origin: "https://app.example", .accessControlRequestMethod: "POST"]
            ) { $0 }
            #expect(pre.status == .noContent)
            #expect(pre.headers[.accessControlAllowOrigin] == "https://app.example")
            #expect(pre.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
            let queryPreflight = try await client.execute(
                uri: "/api/metrics/query", method: .options,
                headers: [.origin: "https://app.example", .accessControlRequestMethod: "GET"]
            ) { $0 }
            #expect(queryPreflight.status == .noContent)
            #expect(queryPreflight.headers[.accessControlAllowOrigin] == "https://app.example")
            let other = try await client.execute(uri: "/api/metrics", method: .get, headers: [.origin: "https://evil.example"]) { $0 }
            #expect(other.headers[.accessControlAllowOrigin] == nil)
            let (s, h, _) = try await client.ingest("{", headers: [.origin: "https://app.example"])
            #expect(s == .badRequest)
            #expect(h[.accessControlAllowOrigin] == "https://app.example")
        }
    }

    @Test(arguments: [
        ("/api/metrics/query", "missing_parameter"),
        ("/api/metrics/query?metric=nope", "unknown_metric"),
        ("/api/metrics/query?metric=events&window=5x", "bad_window"),
        ("/api/metrics/query?metric=events&window=2d", "bad_window"),
        ("/api/metrics/query?metric=response_time_ms&agg=p42", "unknown_aggregation"),
        ("/api/metrics/query?metric=events&group_by=shoe_size", "bad_group_by"),
        ("/api/metrics/query?metric=events&filter=shoe_size:9", "bad_filter"),
        ("/api/metrics/query?metric=events&filter=nocolon", "bad_filter"),
        ("/api/metrics/query?metric=events&filter=org_id:a&filter=segment:b", "bad_filter"),
        ("/api/metrics/query?metric=active_users&group_by=org_id&filter=event_type:chat_interaction", "unsupported"),
        ("/api/metrics/query?metric=events&top=0", "bad_parameter"),
    ])
    func badQueriesAre400NamingWhatIsAllowed(uri: String, code: String) async throws {
        try await withApp(testConfiguration()) { client in
            let (s, j) = try await client.getJSON(uri)
            #expect(s == .badRequest)
            #expect(j?.errorCode == code)
        }
    }

    @Test func catalogueListsEveryMetric() async throws {
        try await withApp(testConfiguration()) { client in
            let (s, j) = try await client.getJSON("/api/metrics")
            #expect(s == .ok)
            let names = j?["metrics"]?.array?.compactMap { $0["name"]?.string } ?? []
            #expect(names == Metric.allCases.map(\.rawValue))
            #expect(j?["metrics"]?.array?.allSatisfy { ($0["description"]?.string?.isEmpty == false) && $0["unit"] != nil } == true)
        }
    }

    @Test func groupByCapsCardinalityWithOther() async throws {
        try await withApp(testConfiguration { $0.aggregation.maxValuesPerDimension = 5 }) { client in
            let events = (0..<20).map { #"{"event_type":"x","properties":{"page_path":"/p\#($0)"}}"# }.joined(separator: ",")
            _ = try await client.ingest(#"{"events":[\#(events)],"context":{"user_id":"u"}}"#)
            let (_, j) = try await client.getJSON("/api/metrics/query?metric=events&window=5m&group_by=page_path&top=3")
            guard case .object(let groups)? = j?["groups"] else { Issue.record("no groups"); return }
            #expect(groups.count == 4)
            #expect(groups.last?.0 == "other")
            #expect(groups.reduce(0) { $0 + ($1.1.number ?? 0) } == 20)
        }
    }

    @Test func operationsEndpoints() async throws {
        try await withApp(testConfiguration()) { client in
            _ = try await client.ingest(#"{"events":[{"event_type":"x"},{"event_type":"x","timestamp":"2001-01-01T00:00:00Z"}],"context":{"user_id":"u"}}"#)
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(text.contains("pulseboard_events_accepted_total 2"))
            #expect(text.contains("pulseboard_events_late_total 1"))
            #expect(text.contains("pulseboard_events_history_only_total 1"))
            #expect(text.contains("pulseboard_ingest_latency_seconds_count 1"))
            #expect(text.contains("pulseboard_window_memory_bytes"))
            #expect(text.contains("pulseboard_journal_bytes_total"))
            let (ready, _) = try await client.getJSON("/ready")
            #expect(ready == .ok)
        }
    }
}
