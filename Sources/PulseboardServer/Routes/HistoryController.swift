import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import PulseboardCore
import PulseboardEngine

/// KPIs and history: `GET /api/kpis` (catalogue with formulas), `GET /api/kpis/:kpi` (value,
/// comparisons, trend), `GET /api/history` (what is stored), `POST /api/history/import`
/// (NDJSON backfill) and `DELETE /api/users/:user_id` (forget a user).
struct HistoryController<Context: RequestContext>: Sendable {
    let history: History
    let ingestor: Ingestor
    /// Frames' values (with the configured benchmarks) come from the hub.
    let hub: Hub
    let authorizer: Authorizer
    let dimensions: DimensionSet
    /// Held for the server's lifetime: no `pulseboard replay` on the same data directory.
    let lock: DataDirectoryLock
    var maxImportBytes = 256 << 20

    func addRoutes(to router: Router<Context>) {
        router.get("/api/kpis") { request, _ in try self.catalogue(request) }
        router.get("/api/kpis/:kpi") { request, context in try self.kpi(request, name: context.parameters.get("kpi") ?? "") }
        router.get("/api/history") { request, _ in try self.summary(request) }
        router.post("/api/history/import") { request, _ in try await self.importEvents(request) }
        router.delete("/api/users/:user_id") { request, context in try self.forget(request, userId: context.parameters.get("user_id") ?? "") }
    }

    func catalogue(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.key("kpis")
        w.beginArray()
        for k in KPI.allCases {
            w.beginObject()
            w.key("name"); w.string(k.rawValue)
            w.key("group"); w.string(k.group.rawValue)
            w.key("formula"); w.string(k.formula)
            w.key("unit"); w.string(k.unit)
            w.key("higher_is_better"); w.bool(k.higherIsBetter)
            w.endObject()
        }
        w.endArray()
        w.key("compare")
        w.beginArray()
        for p in ComparisonPeriod.allCases { w.string(p.rawValue) }
        w.endArray()
        w.key("min_sample"); w.int(KPI.minimumSample)
        w.key("time_zone"); w.string(history.configuration.timeZone)
        w.endObject()
        return .json(w.bytes)
    }

    func kpi(_ request: Request, name: String) throws -> Response {
        try authorizer.require(.read, request)
        guard let kpi = KPI(rawValue: name) else {
            throw APIError(.notFound, code: "unknown_kpi", "unknown kpi '\(name)'; one of " + KPI.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let params = request.uri.queryParameters
        var days = 30
        if let w = params.get("window") {
            guard w.hasSuffix("d"), let n = Int(w.dropLast()), n >= 1, n <= history.configuration.dayRetentionDays else {
                throw APIError(.badRequest, code: "bad_window", "window must be whole days from 1d to \(history.configuration.dayRetentionDays)d (e.g. 7d, 30d)")
            }
            days = n
        }
        var q = KPIQuery(kpi: kpi, days: days)
        if let c = params.get("compare") {
            for name in c.split(separator: ",") {
                guard let p = ComparisonPeriod(rawValue: String(name)) else {
                    throw APIError(.badRequest, code: "bad_compare", "unknown comparison '\(name)'; one of " + ComparisonPeriod.allCases.map(\.rawValue).joined(separator: ", "))
                }
                if !q.compare.contains(p) { q.compare.append(p) }
            }
        }
        if let t = params.get("trend") {
            guard let n = Int(t), n >= 3, n <= 365 else { throw APIError(.badRequest, code: "bad_trend", "trend must be a number of days from 3 to 365") }
            q.trendDays = n
        }
        if let u = params.get("until") {
            guard u == "today" || u == "yesterday" else {
                throw APIError(.badRequest, code: "bad_until", "until must be today (default) or yesterday (whole days only)")
            }
            q.untilYesterday = u == "yesterday"
        }
        if let f = params.get("filter") {
            guard let filter = MetricQuery.Filter(parsing: f.removingPercentEncoding ?? f), dimensions.index(of: filter.key) != nil else {
                throw APIError(.badRequest, code: "bad_filter", "filter must be dimension:value with a tracked dimension (" + dimensions.names.joined(separator: ", ") + ")")
            }
            if kpi == .churnRate || kpi == .adoptionRate {
                throw APIError(.badRequest, code: "unsupported", "\(kpi.rawValue) needs exact user sets, kept for all traffic only; drop the filter")
            }
            q.filter = filter
        }
        var value = FrameBuilder().kpi(q, unit: kpi.unit, source: hub.frameSource())
        if case .object(var members) = value {
            members.insert(("kpi", .string(kpi.rawValue)), at: 0)
            members.insert(("window", .string("\(days)d")), at: 1)
            value = .object(members)
        }
        return .json(value.jsonBytes)
    }

    func summary(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let s = history.stats()
        let c = history.configuration
        var w = JSONWriter()
        w.beginObject()
        w.key("series"); w.int(s.series)
        w.key("known_users"); w.int(s.knownUsers)
        w.key("days_with_users"); w.int(s.storedDays)
        w.key("pending_events"); w.int(s.pendingEvents)
        w.key("watermark"); w.string(Timestamp.format(millis: s.watermarkMs))
        w.key("time_zone"); w.string(c.timeZone)
        w.key("retention_days")
        w.beginObject()
        w.key("minute"); w.int(c.minuteRetentionDays)
        w.key("hour"); w.int(c.hourRetentionDays)
        w.key("day"); w.int(c.dayRetentionDays)
        w.endObject()
        w.endObject()
        return .json(w.bytes)
    }

    func importEvents(_ incoming: Request) async throws -> Response {
        var request = incoming
        try authorizer.require(.admin, request)
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: maxImportBytes) } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", "an import body holds at most \(maxImportBytes) bytes; use pulseboard replay for bigger files")
        }
        let bytes = Array(body.readableBytesView)
        let importId = request.headers[HTTPField.Name("X-Import-Id")!] ?? "post-" + String(StableHash.hash(bytes), radix: 16)
        let importer = HistoryImporter(history: history, dimensions: dimensions)
        var given = false
        let progress: HistoryImporter.Progress
        do {
            progress = try importer.run(importId: importId, nowMs: ingestor.nowMillis()) {
                if given { return nil }
                given = true
                return bytes
            }
        } catch let e as HistoryError {
            throw APIError(.badRequest, code: "invalid_import", e.message)
        }
        var w = JSONWriter()
        w.beginObject()
        w.key("import_id"); w.string(importId)
        w.key("lines"); w.int(progress.lines)
        w.key("events"); w.int(progress.events)
        w.key("rejected"); w.int(progress.rejected)
        w.key("already_imported"); w.int(progress.skipped)
        w.endObject()
        return .json(w.bytes)
    }

    func forget(_ request: Request, userId: String) throws -> Response {
        try authorizer.require(.admin, request)
        let id = userId.removingPercentEncoding ?? userId
        guard try history.forget(userId: id) else {
            throw APIError(.notFound, code: "unknown_user", "no user '\(id)' in history")
        }
        return .json(Array(#"{"forgotten":true}"#.utf8))
    }
}
