import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine
@testable import PulseboardServer

/// A configuration with its own temporary data directory.
func testConfiguration(_ configure: (inout PulseboardConfiguration) -> Void = { _ in }) -> PulseboardConfiguration {
    var c = PulseboardConfiguration()
    c.paths.dataDir = NSTemporaryDirectory() + "pulseboard-server-\(UUID().uuidString)"
    c.paths.publicDir = NSTemporaryDirectory()
    c.server.port = 0
    configure(&c)
    return c
}

/// Removes what a test server wrote to its data directory.
func removeDataDirectory(of configuration: PulseboardConfiguration) {
    try? FileManager.default.removeItem(atPath: configuration.paths.dataDir)
}

let quietLogger: Logger = {
    var l = Logger(label: "test")
    l.logLevel = .critical
    return l
}()

/// Runs `body` against the application (router transport), once it reports ready.
func withApp(_ configuration: PulseboardConfiguration, clock: any WallClock = SystemClock(), _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    let app = try buildApplication(configuration: configuration, clock: clock, logger: quietLogger)
    defer { removeDataDirectory(of: configuration) }
    try await app.test(.router) { client in
        for _ in 0..<200 {
            let ready = try await client.execute(uri: "/ready", method: .get) { $0.status }
            if ready == .ok { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await body(client)
    }
}

extension TestClientProtocol {
    /// POSTs `json` to the ingest endpoint and returns status, headers and parsed body.
    func ingest(
        _ json: String, contentType: String = "application/json", headers extra: HTTPFields = [:], query: String = ""
    ) async throws -> (HTTPResponse.Status, HTTPFields, JSONValue?) {
        var headers: HTTPFields = [.contentType: contentType]
        headers.append(contentsOf: extra)
        return try await execute(uri: "/api/analytics/events" + query, method: .post, headers: headers, body: ByteBuffer(string: json)) { r in
            (r.status, r.headers, try? JSONValue.parse(Array(r.body.readableBytesView)))
        }
    }

    func getJSON(_ uri: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, JSONValue?) {
        try await execute(uri: uri, method: .get, headers: headers) { r in (r.status, try? JSONValue.parse(Array(r.body.readableBytesView))) }
    }
}

extension JSONValue {
    var number: Double? { if case .number(let d) = self { d } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var errorCode: String? { self["error"]?["code"]?.string }
}

let chat = #"{"event_type":"chat_interaction","properties":{"thread_id":"t1","message_id":"m1","message_type":"user_prompt","prompt_length":42,"is_follow_up":false,"response_time_ms":812.5,"model_used":"gpt-x","tokens_consumed":900}}"#
