import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser pages that are not plain files: `/d/:id` serves `dashboard.html` from the public
/// directory for any dashboard id (the page reads the id from its URL and the spec from the API),
/// so `/d/engagement?kiosk=1` keeps its query string and needs no file per dashboard.
struct PagesController<Context: RequestContext>: Sendable {
    let publicDir: String

    func addRoutes(to router: Router<Context>) {
        router.get("/d/:id") { _, _ in try self.dashboardPage() }
    }

    func dashboardPage() throws -> Response {
        let path = publicDir + "/dashboard.html"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw APIError(.notFound, code: "not_found", "no dashboard page at \(path) (paths.public)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
