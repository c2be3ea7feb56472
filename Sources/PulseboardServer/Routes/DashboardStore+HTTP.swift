import Foundation
import Hummingbird
import PulseboardCore
import PulseboardEngine

extension DashboardStore {
    /// The served spec of `id`, or the 404/422 a client should get.
    func servedSpec(_ id: String) throws(APIError) -> DashboardSpec {
        guard let entry = entry(id) else {
            throw APIError(.notFound, code: "unknown_dashboard", "no dashboard '\(id)'; dashboards are " + all().map(\.id).joined(separator: ", "))
        }
        guard let spec = entry.spec else {
            throw APIError(.unprocessableContent, code: "invalid_dashboard", "dashboard '\(id)' has errors and no valid version; see /api/dashboards/\(id)/errors")
        }
        return spec
    }
}

extension DashboardSpec {
    /// Resolves the dashboard variables given as query parameters (all but `reserved`).
    func resolve(queryOf request: Request, reserved: Set<String>) throws(APIError) -> [String: String] {
        var values: [String: String] = [:]
        for (k, v) in request.uri.queryParameters where !reserved.contains(String(k)) {
            values[String(k)] = String(v).removingPercentEncoding ?? String(v)
        }
        do { return try resolve(values) } catch { throw APIError(.badRequest, code: "bad_variables", error.message) }
    }
}
