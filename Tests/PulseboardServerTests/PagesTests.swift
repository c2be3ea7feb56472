import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import Testing
@testable import PulseboardServer

@Suite struct PagesTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `/d/:id` is the dashboard page for any id, query string and all; `/` lists dashboards
    /// with how many streams watch each.
    @Test func dashboardPageAndList() async throws {
        let config = testConfiguration {
            $0.paths.publicDir = PagesTests.repo.path + "/public"
            $0.paths.dashboards = PagesTests.repo.path + "/dashboards"
        }
        try await withApp(config) { client in
            let (status, type, body) = try await client.execute(uri: "/d/executive?kiosk=1", method: .get) { r in
                (r.status, r.headers[.contentType], String(buffer: r.body))
            }
            #expect(status == .ok)
            #expect(type?.hasPrefix("text/html") == true)
            #expect(body.contains("/app/dashboard.js"))
            let (s2, list) = try await client.getJSON("/api/dashboards")
            #expect(s2 == .ok)
            guard case .array(let items)? = list else { Issue.record("not a list"); return }
            let executive = items.first { $0["id"] == .string("executive") }
            #expect(executive?["subscribers"]?.number == 0)
            #expect(executive?["widgets"]?.number == 16)
            let sdk = try await client.execute(uri: "/sdk/pulseboard.js", method: .get) { $0.status }
            #expect(sdk == .ok)
        }
    }
}
