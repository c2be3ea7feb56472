import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import NIOWebSocket
import PulseboardCore
import Testing
import WSClient
import WSCompression
@testable import PulseboardServer

@Suite(.timeLimit(.minutes(2))) struct WebSocketEndpointTests {
    @Test func subscribeDeltasErrorsAndPingOverOneConnection() async throws {
        let configuration = testConfiguration { $0.paths.dashboards = DashboardEndpointTests.dashboards }
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            try await StreamEndpointTests.waitReady(client)
            try await client.ws("/ws", configuration: .init(maxFrameSize: 1 << 20, extensions: [.perMessageDeflate()])) { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                func next() async throws -> JSONValue {
                    guard case .text(let t)? = try await messages.next() else { throw CancellationError() }
                    return try JSONValue.parse(t)
                }
                try await outbound.write(.text(#"{"op":"subscribe","dashboard":"wallboard"}"#))
                try await outbound.write(.text("not json"))
                try await outbound.write(.text(#"{"op":"subscribe","dashboard":"nope"}"#))
                try await outbound.write(.text(#"{"op":"subscribe","dashboard":"engagement","vars":{"team":"x"}}"#))
                try await outbound.write(.text(#"{"op":"ping"}"#))
                var frame: JSONValue? = nil
                var errors: [String] = []
                var pong = false
                while frame == nil || errors.count < 3 || !pong {
                    let m = try await next()
                    switch m["type"]?.string {
                    case "snapshot": frame = m
                    case "error": errors.append(m["code"]?.string ?? "")
                    case "pong": pong = true
                    default: break
                    }
                }
                #expect(Set(errors) == ["bad_json", "unknown_dashboard", "bad_variables"])
                #expect(frame?["dashboard"]?.string == "wallboard")
                #expect(frame?["widgets"]?["users"]?["value"]?.number == 0)

                // The connection survived the errors: a delta arrives after an event.
                _ = try await client.ingest(#"{"events":[{"event_type":"page_view"}],"context":{"user_id":"ws-user"}}"#)
                var current = frame!
                while current["widgets"]?["users"]?["value"]?.number != 1 {
                    let m = try await next()
                    guard m["type"]?.string == "delta", m["dashboard"]?.string == "wallboard" else { continue }
                    #expect((m["seq"]?.number ?? 0) > (current["seq"]?.number ?? 0))
                    current = JSONMergePatch.apply(m, to: current)
                }
                // The rebuilt frame is exactly the snapshot the server serves at that seq.
                var matched = false
                for _ in 0..<20 {
                    let (_, served) = try await client.getJSON("/api/dashboards/wallboard/snapshot")
                    var expected = current
                    if case .object(let members) = current { expected = .object(members.filter { $0.0 != "type" }) }
                    if served?["seq"] == expected["seq"] {
                        #expect(served == expected)
                        matched = true
                        break
                    }
                    let m = try await next()
                    if m["type"]?.string == "delta", m["dashboard"]?.string == "wallboard" { current = JSONMergePatch.apply(m, to: current) }
                }
                #expect(matched)
                // A second subscription on the same connection.
                try await outbound.write(.text(#"{"op":"subscribe","dashboard":"engagement","vars":{"org_id":"any"}}"#))
                while true {
                    let m = try await next()
                    if m["type"]?.string == "snapshot" {
                        #expect(m["dashboard"]?.string == "engagement")
                        break
                    }
                }
                try await outbound.write(.text(#"{"op":"unsubscribe","dashboard":"nope"}"#))
                while true {
                    let m = try await next()
                    if m["type"]?.string == "error" {
                        #expect(m["code"]?.string == "not_subscribed")
                        break
                    }
                }
                try await outbound.close(.normalClosure, reason: nil)
            }
        }
    }

    @Test func alertsReachWebSocketClientsAndTheAlertsEndpoint() async throws {
        let rules = NSTemporaryDirectory() + "alerts-\(UUID().uuidString).json"
        try Data("""
            {"rules": [{"id": "any_event", "title": "Something happened", "query": {"metric": "events", "window": "1m"},
                        "condition": "> 0", "severity": "warning"}], "anomaly": {"enabled": false}}
            """.utf8).write(to: URL(fileURLWithPath: rules))
        defer { try? FileManager.default.removeItem(atPath: rules) }
        let configuration = testConfiguration {
                $0.paths.dashboards = DashboardEndpointTests.dashboards
                $0.alerts.rulesFile = rules
                $0.alerts.evaluateIntervalMs = 100
            }
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            try await StreamEndpointTests.waitReady(client)
            try await client.ws("/ws") { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                func next() async throws -> JSONValue {
                    guard case .text(let t)? = try await messages.next() else { throw CancellationError() }
                    return try JSONValue.parse(t)
                }
                try await outbound.write(.text(#"{"op":"subscribe","dashboard":"wallboard"}"#))
                while try await next()["type"]?.string != "snapshot" {}
                _ = try await client.ingest(#"{"events":[{"event_type":"page_view"}],"context":{"user_id":"ws-alert"}}"#)
                var alert: JSONValue? = nil
                var listed = false
                while alert == nil || !listed {
                    let m = try await next()
                    if m["type"]?.string == "alert" { alert = m }
                    if m["type"]?.string == "delta", m["alerts"]?["any_event"]?["state"]?.string == "firing" { listed = true }
                }
                #expect(alert?["transition"]?.string == "fired" && alert?["rule"]?.string == "any_event")
                #expect(alert?["severity"]?.string == "warning" && alert?["condition"]?.string == "events > 0" && alert?["value"]?.number == 1)
                try await outbound.close(.normalClosure, reason: nil)
            }
            let (status, body) = try await client.getJSON("/api/alerts?state=firing")
            #expect(status == .ok && body?["firing"]?.number == 1)
            #expect(body?["alerts"]?.array?.first?["rule"]?.string == "any_event")
            // A snapshot of a dashboard nobody streams is computed on the spot, alerts included.
            let (_, snapshot) = try await client.getJSON("/api/dashboards/ai-performance/snapshot")
            #expect(snapshot?["seq"]?.number == 0)
            #expect(snapshot?["alerts"]?["any_event"]?["state"]?.string == "firing")
            let (bad, error) = try await client.getJSON("/api/alerts?state=open")
            #expect(bad == .badRequest && error?.errorCode == "bad_state")
        }
    }
}
