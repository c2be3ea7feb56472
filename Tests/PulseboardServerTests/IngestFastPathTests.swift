import Foundation
import Hummingbird
import HummingbirdTesting
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

/// `POST /api/analytics/events` on the event-loop fast path (`IngestEndpoint`), over a real
/// socket: pipelined batches, bodies split across writes, per-event and whole-batch errors
/// on a kept connection, keys, CORS, `Expect: 100-continue`, and the hand-overs to Hummingbird
/// (chunked and large bodies, the durable policy) that must answer alike.
@Suite(.timeLimit(.minutes(2))) struct IngestFastPathTests {
    static func post(_ body: String, _ headers: [String] = ["Content-Type: application/json"], path: String = "/api/analytics/events") -> String {
        "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined() + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    static func batch(user: String, _ types: [String]) -> String {
        #"{"events":["# + types.map { #"{"event_type":"\#($0)"}"# }.joined(separator: ",") + #"],"context":{"user_id":"\#(user)"}}"#
    }

    @Test func pipelinedBatchesErrorsAndSplitBodiesShareOneConnection() async throws {
        let config = testConfiguration { $0.server.corsAllowedOrigins = ["https://exec.example"] }
        let app = try buildApplication(configuration: config, logger: quietLogger)
        defer { removeDataDirectory(of: config) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let split = IngestFastPathTests.post(IngestFastPathTests.batch(user: "d", ["page_view", "page_view"]))
            let cut = split.index(split.endIndex, offsetBy: -10)
            let ndjson = #"{"event_type":"page_view","context":{"user_id":"e"}}"# + "\n" + #"{"event_type":"page_view","context":{"user_id":"f"}}"# + "\n"
            let (responses, closed) = try await LiveQueryEndpointTests.exchange(port: port, [
                IngestFastPathTests.post(IngestFastPathTests.batch(user: "a", ["page_view", "page_view"])),
                IngestFastPathTests.post(IngestFastPathTests.batch(user: "b", ["page_view"]), ["Content-Type: application/json", "Origin: https://exec.example"]),
                IngestFastPathTests.post(#"{"events":[{"event_type":"page_view"},{"nope":1}],"context":{"user_id":"c"}}"#),
                IngestFastPathTests.post(#"{"events": ["#),
                IngestFastPathTests.post("{}", ["Content-Type: application/xml"]),
                IngestFastPathTests.post(ndjson, ["Content-Type: application/x-ndjson"]),
                String(split[..<cut]), String(split[cut...]),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=events&window=5m"),
                LiveQueryEndpointTests.get("/api/metrics/query?metric=active_users&window=5m"),
            ], count: 9, pause: true)
            try #require(responses.map(\.status) == [200, 200, 200, 400, 415, 200, 200, 200, 200])
            #expect(responses[0].body?["accepted"]?.number == 2)
            #expect(responses[0].headers["access-control-allow-origin"] == nil)
            #expect(responses[1].headers["access-control-allow-origin"] == "https://exec.example")
            #expect(responses[1].headers["access-control-expose-headers"] == "Retry-After")
            #expect(responses[2].body?["accepted"]?.number == 1)
            let rejected = try #require(responses[2].body?["rejected"]?.array?.first)
            #expect(rejected["index"]?.number == 1)
            #expect(rejected["field"]?.string == "event_type")
            #expect(responses[3].body?.errorCode == "invalid_batch")
            #expect(responses[4].body?.errorCode == "unsupported_media_type")
            #expect(responses[5].body?["accepted"]?.number == 2)
            #expect(responses[6].body?["accepted"]?.number == 2, "a body split across writes is read whole")
            #expect(responses[7].body?["value"]?.number == 8)
            #expect(responses[8].body?["value"]?.number == 6)
            #expect(!closed, "errors keep the connection")
            let (_, metrics) = try await client.execute(uri: "/metrics", method: .get) { r in (r.status, String(buffer: r.body)) }
            #expect(metrics.contains("pulseboard_ingest_batches_total 5"))
            #expect(metrics.contains("pulseboard_ingest_batches_refused_total 2"))
        }
    }

    @Test func keysAreCheckedOnTheLoop() async throws {
        let config = testConfiguration { $0.apiKeys = AuthAndQueryTests.keys }
        let app = try buildApplication(configuration: config, logger: quietLogger)
        defer { removeDataDirectory(of: config) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let body = IngestFastPathTests.batch(user: "a", ["page_view"])
            let (responses, _) = try await LiveQueryEndpointTests.exchange(port: port, [
                IngestFastPathTests.post(body),
                IngestFastPathTests.post(body, ["Authorization: Bearer viewer-secret-0123456789"]),
                IngestFastPathTests.post(body, ["X-Pulseboard-Key: ingest-secret-0123456789"]),
                IngestFastPathTests.post(body, path: "/api/analytics/events?key=ingest-secret-0123456789"),
            ], count: 4)
            try #require(responses.map(\.status) == [401, 403, 200, 200])
            #expect(responses[0].headers["www-authenticate"] == "Bearer")
            #expect(responses[1].body?.errorCode == "forbidden")
            #expect(responses[3].body?["accepted"]?.number == 1)
        }
    }

    /// Requests the loop leaves to Hummingbird get the same answers there, on the same connection.
    @Test func chunkedAndLargeBodiesGoToHummingbird() async throws {
        let configuration = testConfiguration()
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            // Past the loop's 256 KiB: 1,000 events of ~300 bytes.
            let padded = #"{"event_type":"page_view","properties":{"pad":"\#(String(repeating: "x", count: 280))"}}"#
            let many = #"{"events":["# + Array(repeating: padded, count: 1_000).joined(separator: ",") + #"],"context":{"user_id":"big"}}"#
            #expect(many.utf8.count > IngestEndpoint.loopBodyLimit)
            let chunkBody = IngestFastPathTests.batch(user: "c", ["page_view"])
            let chunked = "POST /api/analytics/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(chunkBody.utf8.count, radix: 16) + "\r\n" + chunkBody + "\r\n0\r\n\r\n"
            let (responses, _) = try await LiveQueryEndpointTests.exchange(port: port, [
                IngestFastPathTests.post(IngestFastPathTests.batch(user: "a", ["page_view"])),
                IngestFastPathTests.post(many),
                chunked,
                LiveQueryEndpointTests.get("/api/metrics/query?metric=active_users&window=5m"),
            ], count: 4, pause: true)
            try #require(responses.map(\.status) == [200, 200, 200, 200])
            #expect(responses[1].body?["accepted"]?.number == 1_000)
            #expect(responses[1].headers["server"] == "pulseboard", "answered by Hummingbird")
            #expect(responses[2].body?["accepted"]?.number == 1)
            #expect(responses[3].body?["value"]?.number == 3)
        }
    }

    /// A client that sends `Expect: 100-continue` waits for the interim answer (curl: a second,
    /// for bodies over 1 MiB) before the body: the loop answers it at once.
    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        let configuration = testConfiguration()
        let app = try buildApplication(configuration: configuration, logger: quietLogger)
        defer { removeDataDirectory(of: configuration) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let request = IngestFastPathTests.post(IngestFastPathTests.batch(user: "e", ["page_view"]), ["Content-Type: application/json", "Expect: 100-continue"])
            let headEnd = try #require(request.range(of: "\r\n\r\n")).upperBound
            let (interim, final) = try await IngestFastPathTests.expectContinue(
                port: port, head: String(request[..<headEnd]), body: String(request[headEnd...]))
            #expect(interim == "HTTP/1.1 100 Continue")
            #expect(final.hasPrefix("HTTP/1.1 200"))
            #expect(final.contains(#""accepted":1"#))
        }
    }

    /// Sends a request head, waits (up to 10 s) for the interim answer as a client that sent
    /// `Expect: 100-continue` does, and only then the body: returns the interim status line and
    /// the final response's text.
    static func expectContinue(port: Int, head: String, body: String) async throws -> (interim: String, final: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result {
                    let fd = try SSEClient.connectSocket(port: port)
                    defer { _ = Glibc.close(fd) }
                    var tv = timeval(tv_sec: 10, tv_usec: 0)
                    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    var received: [UInt8] = []
                    var chunk = [UInt8](repeating: 0, count: 65536)
                    func read(until done: ([UInt8]) -> Bool) {
                        while !done(received) {
                            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                            guard n > 0 else { return }
                            received += chunk[0..<n]
                        }
                    }
                    _ = head.withCString { send(fd, $0, strlen($0), 0) }
                    read { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
                    let text = String(decoding: received, as: UTF8.self)
                    let interim = text.components(separatedBy: "\r\n").first ?? ""
                    received.removeAll()
                    _ = body.withCString { send(fd, $0, strlen($0), 0) }
                    read { String(decoding: $0, as: UTF8.self).contains("}") }
                    return (interim, String(decoding: received, as: UTF8.self))
                })
            }
        }
    }

    @Test func theDurablePolicyIsServedByHummingbird() async throws {
        let config = testConfiguration { $0.journal.writePolicy = .durable }
        let app = try buildApplication(configuration: config, logger: quietLogger)
        defer { removeDataDirectory(of: config) }
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await StreamEndpointTests.waitReady(client)
            let (responses, _) = try await LiveQueryEndpointTests.exchange(port: port, [
                IngestFastPathTests.post(IngestFastPathTests.batch(user: "a", ["page_view", "page_view"])),
            ], count: 1)
            #expect(responses.first?.status == 200)
            #expect(responses.first?.body?["accepted"]?.number == 2)
            #expect(responses.first?.headers["server"] == "pulseboard", "answered by Hummingbird, after the fsync")
        }
    }
}
