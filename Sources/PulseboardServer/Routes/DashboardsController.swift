import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import PulseboardCore
import PulseboardEngine

/// Dashboard specs over HTTP: list, read, errors, validate, and the current frame (snapshot).
struct DashboardsController<Context: RequestContext>: Sendable {
    let store: DashboardStore
    let ingestor: Ingestor
    let hub: Hub
    let authorizer: Authorizer
    let frames = FrameBuilder()

    func addRoutes(to router: Router<Context>) {
        router.get("/api/dashboards") { request, _ in try self.list(request) }
        router.get("/api/dashboards/:id") { request, context in try self.spec(request, id: context.parameters.get("id") ?? "") }
        router.get("/api/dashboards/:id/errors") { request, context in try self.errors(request, id: context.parameters.get("id") ?? "") }
        router.get("/api/dashboards/:id/snapshot") { request, context in try self.snapshot(request, id: context.parameters.get("id") ?? "") }
        router.post("/api/dashboards/validate") { request, _ in try await self.validate(request) }
        router.put("/api/dashboards/:id") { request, context in try await self.put(request, id: context.parameters.get("id") ?? "") }
    }

    func list(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let subscribers = hub.subscribersByDashboard()
        var w = JSONWriter()
        w.beginArray()
        for e in store.all() {
            guard let spec = e.spec else { continue }
            w.beginObject()
            w.key("id"); w.string(spec.id)
            w.key("title"); w.string(spec.title)
            w.key("refresh_ms"); w.int(spec.refreshMs)
            w.key("widgets"); w.int(spec.widgets.count)
            w.key("subscribers"); w.int(subscribers[spec.id] ?? 0)
            w.key("variables")
            w.beginObject()
            for v in spec.variables {
                w.key(v.name)
                w.beginObject()
                w.key("default"); w.string(v.defaultValue)
                w.key("values")
                if let allowed = v.allowed {
                    w.beginArray()
                    for a in allowed { w.string(a) }
                    w.endArray()
                } else {
                    w.string("any")
                }
                w.endObject()
            }
            w.endObject()
            w.key("errors"); w.int(e.errors.count)
            w.endObject()
        }
        w.endArray()
        return .json(w.bytes)
    }

    func entry(_ id: String) throws(APIError) -> DashboardStore.Entry {
        guard let e = store.entry(id) else {
            throw APIError(.notFound, code: "unknown_dashboard", "no dashboard '\(id)'; dashboards are " + store.all().map(\.id).joined(separator: ", "))
        }
        return e
    }

    func spec(_ request: Request, id: String) throws -> Response {
        try authorizer.require(.read, request)
        return .json(try store.servedSpec(id).source.jsonBytes)
    }

    func errors(_ request: Request, id: String) throws -> Response {
        try authorizer.require(.read, request)
        let e = try entry(id)
        return .json(DashboardsController.encode(valid: e.errors.isEmpty, errors: e.errors, id: id))
    }

    func validate(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let result = store.validate(Array(body.readableBytesView))
        switch result {
        case .success: return .json(DashboardsController.encode(valid: true, errors: [], id: nil))
        case .failure(let e): return .json(DashboardsController.encode(valid: false, errors: e.errors, id: nil))
        }
    }

    /// Validates and stores a spec as `dashboards/<id>.json`; live topics switch to it.
    func put(_ request: Request, id: String) async throws -> Response {
        try authorizer.require(.admin, request)
        guard DashboardSpecParser.isIdentifier(id) else {
            throw APIError(.badRequest, code: "bad_dashboard_id", "dashboard ids use lowercase letters, digits, '-' and '_' (1–64 characters)")
        }
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        switch try store.store(Array(body.readableBytesView), id: id) {
        case .failure(let e):
            return .json(DashboardsController.encode(valid: false, errors: e.errors, id: id), status: .unprocessableContent)
        case .success(let changed):
            for changedId in changed { hub.update(dashboard: changedId, spec: store.entry(changedId)?.spec) }
            return .json(DashboardsController.encode(valid: true, errors: [], id: id))
        }
    }

    func snapshot(_ request: Request, id: String) throws -> Response {
        try authorizer.require(.read, request)
        let spec = try store.servedSpec(id)
        let resolved = try spec.resolve(queryOf: request, reserved: ["key"])
        // A live topic answers with its current frame (the one its deltas lead to).
        if let live = hub.frame(key: Hub.topicKey(dashboard: spec.id, variables: resolved)) {
            return .json(live.jsonBytes)
        }
        let widgets = frames.widgets(spec, variables: resolved, source: hub.frameSource())
        let frame = frames.frame(dashboard: spec.id, seq: 0, timestampMs: ingestor.nowMillis(), widgets: widgets, alerts: hub.alertsObject())
        return .json(frame.jsonBytes)
    }

    static func encode(valid: Bool, errors: [SpecError], id: String?) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        if let id { w.key("id"); w.string(id) }
        w.key("valid"); w.bool(valid)
        w.key("errors")
        w.beginArray()
        for e in errors {
            w.beginObject()
            w.key("path"); w.string(e.path)
            w.key("line"); w.int(e.line)
            w.key("column"); w.int(e.column)
            w.key("message"); w.string(e.message)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }
}
