import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite(.timeLimit(.minutes(2))) struct StreamEndpointTests {
    func config() -> PulseboardConfiguration {
        testConfiguration { $0.paths.dashboards = DashboardEndpointTests.dashboards }
    }

    static func waitReady(_ client: some TestClientProtocol) async throws {
        for _ in 0..<200 {
            let status = try await client.execute(uri: "/ready", method: .get) { $0.status }
            if status == .ok { return }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    static let event = #"{"events":[{"event_type":"page_view"}],"context":{"user_id":"USER"}}"#

    @Test func sseSendsSnapshotThenDeltasAndResumes() async throws {
        let configuration = config()
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let sse = try SSEClient(port: port, path: "/api/stream/wallboard")
            defer { sse.close() }
            let first = await sse.events(1)
            #expect(sse.status == 200)
            let snapshot = try #require(first.first)
            #expect(snapshot.event == "snapshot")
            #expect(snapshot.data?["widgets"]?["users"]?["value"]?.number == 0)
            var frame = try #require(snapshot.data)

            _ = try await client.ingest(StreamEndpointTests.event.replacingOccurrences(of: "USER", with: "a"))
            // Within a couple of refreshes a delta carries the new user.
            var lastId = snapshot.id ?? 0
            for _ in 0..<10 {
                for e in await sse.events(1, timeout: 2) where e.event == "delta" {
                    #expect((e.id ?? 0) > lastId)
                    lastId = e.id ?? lastId
                    frame = JSONMergePatch.apply(e.data!, to: frame)
                }
                if frame["widgets"]?["users"]?["value"]?.number == 1 { break }
            }
            #expect(frame["widgets"]?["users"]?["value"]?.number == 1)
            #expect(frame["seq"]?.number == Double(lastId))
            // The rebuilt frame is exactly the snapshot the server serves at that seq.
            var matched = false
            for _ in 0..<20 {
                let (_, served) = try await client.getJSON("/api/dashboards/wallboard/snapshot")
                if served?["seq"]?.number == Double(lastId) {
                    #expect(served == frame)
                    matched = true
                    break
                }
                for e in await sse.events(1, timeout: 2) where e.event == "delta" {
                    lastId = e.id ?? lastId
                    frame = JSONMergePatch.apply(e.data!, to: frame)
                }
            }
            #expect(matched)

            // Resume from the last id: only what comes after it.
            let resumed = try SSEClient(port: port, path: "/api/stream/wallboard", headers: ["Last-Event-ID": String(lastId)])
            defer { resumed.close() }
            _ = try await client.ingest(StreamEndpointTests.event.replacingOccurrences(of: "USER", with: "b"))
            let next = await resumed.events(1, timeout: 5)
            #expect(next.first?.event == "delta")
            #expect((next.first?.id ?? 0) > lastId)
            // An id the server never issued (another run) gets a fresh snapshot.
            let stale = try SSEClient(port: port, path: "/api/stream/wallboard?since=42")
            defer { stale.close() }
            #expect(await stale.events(1).first?.event == "snapshot")
        }
    }

    @Test func badStreamRequestsAreClearErrors() async throws {
        try await withApp(config()) { client in
            let (s1, j1) = try await client.getJSON("/api/stream/nope")
            #expect(s1 == .notFound)
            #expect(j1?.errorCode == "unknown_dashboard")
            let (s2, j2) = try await client.getJSON("/api/stream/engagement?team=x")
            #expect(s2 == .badRequest)
            #expect(j2?.errorCode == "bad_variables")
            let (s3, j3) = try await client.getJSON("/api/stream/engagement?since=abc")
            #expect(s3 == .badRequest)
            #expect(j3?.errorCode == "bad_since")
        }
    }

    @Test func streamsOverTheCapGet503AndTheServerCarriesOn() async throws {
        let configuration = testConfiguration {
            $0.paths.dashboards = DashboardEndpointTests.dashboards
            $0.push.maxStreams = 2
        }
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let a = try SSEClient(port: port, path: "/api/stream/wallboard")
            let b = try SSEClient(port: port, path: "/api/stream/engagement")
            #expect(await a.events(1).first?.event == "snapshot")
            #expect(await b.events(1).first?.event == "snapshot")
            let (status, body) = try await client.getJSON("/api/stream/wallboard")
            #expect(status == .serviceUnavailable)
            #expect(body?.errorCode == "too_many_streams")
            // Plain requests still work, and a slot frees when a stream ends.
            #expect(try await client.getJSON("/api/dashboards").0 == .ok)
            a.close()
            var reopened = false
            for _ in 0..<100 {
                try await Task.sleep(for: .milliseconds(50))
                let c = try SSEClient(port: port, path: "/api/stream/wallboard")
                _ = await c.events(1, timeout: 1)
                reopened = c.status == 200
                c.close()
                if reopened { break }
            }
            #expect(reopened)
            b.close()
        }
    }

    @Test func connectionsOverTheCapGet503AndTheServerCarriesOn() async throws {
        let configuration = testConfiguration {
            $0.paths.dashboards = DashboardEndpointTests.dashboards
            $0.server.maxConnections = 4
        }
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            // Ten times the cap at once.
            var streams: [SSEClient] = []
            for _ in 0..<40 { streams.append(try SSEClient(port: port, path: "/api/stream/wallboard")) }
            var served = 0
            var refused = 0
            for s in streams {
                _ = await s.events(1, timeout: 5)
                if s.status == 200 { served += 1 }
                if s.status == 503, String(decoding: s.raw, as: UTF8.self).contains("too_many_connections") { refused += 1 }
            }
            // The test client holds a connection of its own.
            #expect((1...4).contains(served))
            #expect(refused == 40 - served)
            for s in streams { s.close() }
            // The server carries on: plain requests and new streams are served again.
            var back = false
            for _ in 0..<100 {
                try await Task.sleep(for: .milliseconds(50))
                let s = try SSEClient(port: port, path: "/api/stream/wallboard")
                back = await s.events(1, timeout: 2).first?.event == "snapshot"
                s.close()
                if back { break }
            }
            #expect(back)
            let (status, metrics) = try await client.execute(uri: "/metrics", method: .get) { ($0.status, String(buffer: $0.body)) }
            #expect(status == .ok)
            // Every refusal is counted (retries above may add a few).
            let counted = metrics.split(separator: "\n").first { $0.hasPrefix("pulseboard_connections_refused_total ") }
            #expect((counted.flatMap { Int($0.split(separator: " ")[1]) } ?? 0) >= refused)
        }
    }

    @Test func aStreamOnAKeepAliveConnectionHummingbirdServesStillStreams() async throws {
        let configuration = config()
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            // A browser may reuse the connection that fetched the page for its EventSource.
            let fd = try SSEClient.connectSocket(port: port)
            defer { _ = Glibc.close(fd) }
            let requests = "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/stream/wallboard HTTP/1.1\r\nHost: x\r\n\r\n"
            _ = requests.withCString { send(fd, $0, strlen($0), 0) }
            var text = ""
            var chunk = [UInt8](repeating: 0, count: 65536)
            let deadline = Date().addingTimeInterval(10)
            while !text.contains("event: snapshot") && Date() < deadline {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n > 0 { text += String(decoding: chunk[0..<n], as: UTF8.self) } else if n == 0 { break }
            }
            #expect(text.contains(#"{"status":"ok"}"#))
            #expect(text.contains("text/event-stream"))
            #expect(text.contains("event: snapshot"))
            #expect(text.contains(#"data: {"dashboard":"wallboard""#))
        }
    }

    @Test func gracefulShutdownEndsOpenStreamsPromptly() async throws {
        let configuration = config()
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        let clock = ContinuousClock()
        let (streams, idle, shutdownStarted) = try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            var streams: [SSEClient] = []
            for id in ["engagement", "wallboard", "ai-performance"] {
                let s = try SSEClient(port: port, path: "/api/stream/\(id)")
                #expect(await s.events(1).first?.event == "snapshot")
                streams.append(s)
            }
            // And an open WebSocket (upgraded, subscribed to nothing).
            let ws = try SSEClient(port: port, path: "/ws", headers: [
                "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            ])
            _ = await ws.events(1, timeout: 0.5)
            #expect(ws.status == 101)
            streams.append(ws)
            // And a connection that has not sent its request yet.
            let idle = try SSEClient.connectSocket(port: port)
            return (streams, idle, clock.now)
        }
        #expect(clock.now - shutdownStarted < .seconds(5))
        for s in streams { s.close() }
        _ = Glibc.close(idle)
    }
}
