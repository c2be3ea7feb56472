import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import Testing
@testable import PulseboardServer

@Suite(.timeLimit(.minutes(2))) struct DashboardReloadTests {
    static func spec(_ widgets: String) -> String {
        #"{"id": "board", "title": "Board", "widgets": [\#(widgets)]}"#
    }
    static let one = spec(#"{"id": "users", "type": "stat", "query": {"metric": "active_users", "window": "5m"}}"#)
    static let two = spec(#"{"id": "users", "type": "stat", "query": {"metric": "active_users", "window": "5m"}}, {"id": "rate", "type": "timeseries", "query": {"metric": "events_per_sec", "window": "1m"}}"#)

    func widgetIds(_ client: some TestClientProtocol) async throws -> [String] {
        let (_, spec) = try await client.getJSON("/api/dashboards/board")
        return spec?["widgets"]?.array?.compactMap { $0["id"]?.string } ?? []
    }

    @Test func goodEditsGoLiveAndBadOnesKeepTheLastGoodVersion() async throws {
        let dir = NSTemporaryDirectory() + "pb-dash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = URL(fileURLWithPath: dir + "/board.json")
        try Data(DashboardReloadTests.one.utf8).write(to: file)
        try await withApp(testConfiguration { $0.paths.dashboards = dir }) { client in
            #expect(try await widgetIds(client) == ["users"])
            // A good edit is picked up within 2 s.
            try Data(DashboardReloadTests.two.utf8).write(to: file)
            var ids: [String] = []
            for _ in 0..<30 {
                ids = try await widgetIds(client)
                if ids.count == 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ids == ["users", "rate"])
            // A bad edit keeps the last good version live; its errors are served.
            try Data(DashboardReloadTests.spec(#"{"id": "users", "type": "stat", "query": {"metric": "nope"}}"#).utf8).write(to: file)
            var errors: [JSONValue] = []
            for _ in 0..<30 {
                errors = try await client.getJSON("/api/dashboards/board/errors").1?["errors"]?.array ?? []
                if !errors.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(errors.first?["path"]?.string == "$.widgets[0].query.metric")
            #expect(try await widgetIds(client) == ["users", "rate"])
        }
    }

    @Test func putValidatesStoresAndNeedsAdmin() async throws {
        let dir = NSTemporaryDirectory() + "pb-dash-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = [
            APIKey(name: "viewer", secret: "viewer-secret-0123456789", scopes: [.read]),
            APIKey(name: "ops", secret: "admin-secret-0123456789", scopes: [.admin]),
        ]
        try await withApp(testConfiguration { $0.paths.dashboards = dir; $0.apiKeys = keys }) { client in
            func put(_ body: String, key: String) async throws -> (HTTPResponse.Status, JSONValue?) {
                try await client.execute(uri: "/api/dashboards/board", method: .put, headers: [.authorization: "Bearer " + key], body: ByteBuffer(string: body)) { r in
                    (r.status, try? JSONValue.parse(Array(r.body.readableBytesView)))
                }
            }
            #expect(try await put(DashboardReloadTests.one, key: "viewer-secret-0123456789").0 == .forbidden)
            let (bad, errors) = try await put(DashboardReloadTests.spec(#"{"id": "x", "type": "pie"}"#), key: "admin-secret-0123456789")
            #expect(bad == .unprocessableContent)
            #expect(errors?["errors"]?.array?.first?["path"]?.string == "$.widgets[0].type")
            #expect(!FileManager.default.fileExists(atPath: dir + "/board.json"))
            let (ok, _) = try await put(DashboardReloadTests.two, key: "admin-secret-0123456789")
            #expect(ok == .ok)
            #expect(FileManager.default.fileExists(atPath: dir + "/board.json"))
            let (_, spec) = try await client.getJSON("/api/dashboards/board?key=viewer-secret-0123456789")
            #expect(spec?["widgets"]?.array?.count == 2)
        }
    }
}
