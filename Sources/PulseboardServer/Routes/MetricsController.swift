import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import PulseboardCore
import PulseboardEngine

/// `GET /api/metrics` (the catalogue) and `GET /api/metrics/query` (a live value and series).
struct MetricsController<Context: RequestContext>: Sendable {
    let ingestor: Ingestor
    let authorizer: Authorizer
    let dimensions: DimensionSet

    func addRoutes(to router: Router<Context>) {
        router.get("/api/metrics") { request, _ in try self.catalogue(request) }
        router.get("/api/metrics/query") { request, _ in try self.query(request) }
        // CORS preflight (answered by AllowedOriginsMiddleware for allowed origins).
        router.on("/api/metrics", method: .options) { _, _ in Response(status: .noContent) }
        router.on("/api/metrics/query", method: .options) { _, _ in Response(status: .noContent) }
    }

    func catalogue(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("metrics")
        w.beginArray()
        for m in Metric.allCases {
            w.beginObject()
            w.key("name"); w.string(m.rawValue)
            w.key("description"); w.string(m.summary)
            w.key("unit"); w.string(m.unit)
            w.key("aggregations")
            w.beginArray()
            for a in m.aggregations { w.string(a) }
            w.endArray()
            w.key("series"); w.bool(m.hasSeries)
            w.endObject()
        }
        w.endArray()
        w.key("windows")
        w.beginObject()
        w.key("max"); w.string("24h")
        w.key("standard")
        w.beginArray()
        for s in ["1m", "5m", "15m", "1h", "24h"] { w.string(s) }
        w.endArray()
        w.key("bucket_seconds"); w.string("1 for windows up to 15m, 60 above")
        w.endObject()
        w.key("dimensions")
        w.beginArray()
        for d in dimensions.names { w.string(d) }
        w.endArray()
        w.endObject()
        return .json(w.bytes)
    }

    func query(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let params = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value).removingPercentEncoding ?? String($0.value)) }
        return .json(try LiveQueryEndpoint.answer(params, ingestor: ingestor))
    }
}
