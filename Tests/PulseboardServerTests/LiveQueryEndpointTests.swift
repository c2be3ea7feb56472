import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import HummingbirdTesting
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

/// `GET /api/metrics/query` on the event-loop fast path, over a real socket: keep-alive,
/// pipelining, errors without dropping the connection, auth, CORS, and a hand-over to
/// Hummingbird when a later request on the connection is not a live query.
@Suite(.timeLimit(.minutes(2))) struct LiveQueryEndpointTests {
    struct RawResponse: Sendable {
        var status: Int
        var headers: [String: String]
        var body: JSONValue?
    }

    /// Sends `requests` back to back on one connection (`pause`: each in its own write, 30 ms
    /// apart) and reads `count` responses (or until the server closes it). The blocking socket
    /// calls run on a Dispatch thread: on the cooperative pool they would starve the tasks
    /// Hummingbird answers handed-over requests with.
    static func exchange(port: Int, _ requests: [String], count: Int, pause: Bool = false) async throws -> (responses: [RawResponse], closed: Bool) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try blockingExchange(port: port, requests, count: count, pause: pause) })
            }
        }
    }

    static func blockingExchange(port: Int, _ requests: [String], count: Int, pause: Bool) throws -> (responses: [RawResponse], closed: Bool) {
        let fd = try SSEClient.connectSocket(port: port)
        defer { _ = Glibc.close(fd) }
        for text in pause ? requests : [requests.joined()] {
            _ = text.withCString { send(fd, $0, strlen($0), 0) }
            if pause { usleep(30_000) }
        }
        var bytes: [UInt8] = []
        var responses: [RawResponse] = []
        var closed = false
        let deadline = Date().addingTimeInterval(10)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while responses.count < count && !closed && Date() < deadline {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { closed = true } else if n > 0 { bytes += chunk[0..<n] }
            // Parse whole responses off the front.
            while let headEnd = find([13, 10, 13, 10], in: bytes) {
                let head = String(decoding: bytes[0..<headEnd], as: UTF8.self).split(separator: "\r\n")
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    if let colon = line.firstIndex(of: ":") {
                        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    }
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                guard bytes.count >= headEnd + 4 + length else { break }
                let status = Int(head.first?.split(separator: " ")[1] ?? "0") ?? 0
                let body = Array(bytes[(headEnd + 4)..<(headEnd + 4 + length)])
                responses.append(RawResponse(status: status, headers: headers, body: try? JSONValue.parse(body)))
                bytes.removeFirst(headEnd + 4 + length)
            }
        }
        if !closed && responses.count == count {
            // Did the server close after the last one?
            var tv = timeval(tv_sec: 0, tv_usec: 300_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            closed = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } == 0
        }
        return (responses, closed)
    }

    static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    static func get(_ path: String, _ headers: [String] = [], version: String = "HTTP/1.1") -> String {
        "GET \(path) \(version)\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    @Test func pipelinedQueriesErrorsAndAHandOverShareOneConnection() async throws {
        let config = testConfiguration { $0.server.corsAllowedOrigins = ["https://exec.example"] }
        let app = try buildApplication(configuration: config, logger: quietLogger)
        defer { removeDataDirectory(of: config) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            for user in ["a", "b", "c"] {
                let (status, _, _) = try await client.ingest(#"{"events":[{"event_type":"page_view"},{"event_type":"page_view"}],"context":{"user_id":"\#(user)"}}"#)
                #expect(status == .ok)
            }
            let (responses, closed) = try await LiveQueryEndpointTests.exchange(port: port, [
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&window=5m"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=active_users&window=5m", ["Origin: https://exec.example"]),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=nope"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&filter=a:b&filter=c:d"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&group_by=event_type"),
                LiveQueryEndpointTests.get("/api/metrics"),  // not a live query: Hummingbird takes over
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events", ["Connection: close"]),
            ], count: 7)
            #expect(responses.map(\.status) == [200, 200, 400, 400, 200, 200, 200])
            #expect(responses[0].body?["value"]?.number == 6)
            #expect(responses[0].body?["metric"]?.string == "events")
            #expect(responses[1].body?["value"]?.number == 3)
            #expect(responses[1].headers["access-control-allow-origin"] == "https://exec.example")
            #expect(responses[0].headers["access-control-allow-origin"] == nil)
            #expect(responses[2].body?.errorCode == "unknown_metric")
            #expect(responses[3].body?.errorCode == "bad_filter")
            #expect(responses[4].body?["groups"]?["page_view"]?.number == 6)
            #expect(responses[5].body?["metrics"]?.array?.isEmpty == false)
            #expect(responses[6].body?["value"]?.number == 6)
            #expect(closed, "Connection: close is honoured (by Hummingbird, after the hand-over)")
        }
    }

    @Test func keysAreCheckedAndHTTP10Closes() async throws {
        let config = testConfiguration { $0.apiKeys = AuthAndQueryTests.keys }
        let app = try buildApplication(configuration: config, logger: quietLogger)
        defer { removeDataDirectory(of: config) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let (responses, closed) = try await LiveQueryEndpointTests.exchange(port: port, [
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events", ["Authorization: Bearer ingest-secret-0123456789"]),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&key=admin-secret-0123456789"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events", ["X-Pulseboard-Key: viewer-secret-0123456789"]),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&key=viewer-secret-0123456789"),
            ], count: 5)
            #expect(responses.map(\.status) == [401, 403, 401, 200, 200])
            #expect(responses[0].headers["www-authenticate"] == "Bearer")
            #expect(responses[1].body?.errorCode == "forbidden")
            #expect(responses[4].body?["value"]?.number == 0)
            #expect(!closed, "errors keep the connection")

            let (old, oldClosed) = try await LiveQueryEndpointTests.exchange(
                port: port, [LiveQueryEndpointTests.get("/api/metrics/query?metric=events&key=viewer-secret-0123456789", version: "HTTP/1.0")], count: 1)
            #expect(old.first?.status == 200)
            #expect(old.first?.headers["connection"] == "close")
            #expect(oldClosed)
        }
    }
}
