import Hummingbird
import PulseboardCore
import PulseboardEngine

/// Seed 004's reports: `GET /api/analytics/reports/user-activity` (activity per hour, day,
/// week or month, for everyone or one user) and `GET /api/analytics/reports/ai-spend`.
struct ReportsController<Context: RequestContext>: Sendable {
    let history: History
    let ingestor: Ingestor
    let authorizer: Authorizer
    /// Longest `granularity=hour` range, in days.
    var maxHourDays = 31

    func addRoutes(to router: Router<Context>) {
        router.get("/api/analytics/reports/user-activity") { request, _ in try self.userActivity(request) }
        router.get("/api/analytics/reports/ai-spend") { request, _ in try self.spend(request) }
    }

    /// `start_date` and `end_date` (local dates, inclusive) as day numbers; defaults when given.
    func range(_ request: Request, defaultFirst: Int64? = nil) throws -> (first: Int64, last: Int64, today: Int64) {
        let params = request.uri.queryParameters
        let today = history.day(ofMillis: ingestor.nowMillis())
        func date(_ name: String, _ fallback: Int64?) throws -> Int64 {
            guard let text = params.get(name) else {
                if let fallback { return fallback }
                throw APIError(.badRequest, code: "missing_parameter", "\(name) is required: a date such as 2026-11-01 (in \(history.configuration.timeZone))")
            }
            guard let d = LocalCalendar.parseDate(text) else {
                throw APIError(.badRequest, code: "bad_date", "\(name) must be a date YYYY-MM-DD (got '\(text)')")
            }
            return LocalCalendar.day(of: d)
        }
        let first = try date("start_date", defaultFirst)
        let last = try date("end_date", defaultFirst == nil ? nil : today)
        guard first <= last else { throw APIError(.badRequest, code: "bad_range", "start_date must not be after end_date") }
        let retention = Int64(history.configuration.dayRetentionDays)
        guard last - first < retention else {
            throw APIError(.badRequest, code: "bad_range", "the range spans \(last - first + 1) days; history keeps days for \(retention) (history.day_retention_days)")
        }
        guard last <= today else { throw APIError(.badRequest, code: "bad_range", "end_date is in the future (today is \(LocalCalendar.date(ofDay: today)))") }
        return (first, last, today)
    }

    func userActivity(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let params = request.uri.queryParameters
        var granularity = ReportGranularity.day
        if let g = params.get("granularity") {
            guard let v = ReportGranularity(rawValue: g) else {
                throw APIError(.badRequest, code: "bad_granularity", "granularity must be one of hour, day, week, month (got '\(g)')")
            }
            granularity = v
        }
        let (first, last, _) = try range(request)
        let calendar = history.calendar
        var out: [(String, JSONValue)] = [
            ("report", .string("user-activity")),
            ("start_date", .string(LocalCalendar.date(ofDay: first).description)),
            ("end_date", .string(LocalCalendar.date(ofDay: last).description)),
            ("granularity", .string(granularity.rawValue)),
            ("time_zone", .string(history.configuration.timeZone)),
        ]
        let days = history.days(series: SeriesCatalog.all, first: first, last: last)

        if let userId = params.get("user_id") {
            guard granularity != .hour else {
                throw APIError(.badRequest, code: "bad_granularity", "one user's activity is kept per day (a bit per user per day); use granularity day, week or month")
            }
            guard let index = history.userIndex(of: userId) else {
                throw APIError(.notFound, code: "unknown_user", "history has no user '\(userId)' (never seen, or forgotten)")
            }
            let active = (first...last).filter { days.users?[Int($0 - first)].contains(index) ?? false }
            out.append(("user_id", .string(userId)))
            out.append(("active_days", .number(Double(active.count))))
            if let a = active.first { out.append(("first_active", .string(LocalCalendar.date(ofDay: a).description))) }
            if let a = active.last { out.append(("last_active", .string(LocalCalendar.date(ofDay: a).description))) }
            let buckets: [JSONValue] = granularity.dayBuckets(first: first, last: last).map { b in
                .object([
                    ("start", .string(b.label)), ("days", .number(Double(b.last - b.first + 1))),
                    ("active_days", .number(Double(active.lazy.filter { $0 >= b.first && $0 <= b.last }.count))),
                ])
            }
            out.append(("buckets", .array(buckets)))
            return .json(JSONValue.object(out).jsonBytes)
        }

        var totals: [(String, JSONValue)] = [("active_users", .number(Double(days.activeUsers(first, last)?.count ?? 0)))]
        totals += ReportFields.members(days.rollup(first, last))
        out.append(("totals", .object(totals)))
        var buckets: [JSONValue] = []
        if granularity == .hour {
            guard last - first < Int64(maxHourDays) else {
                throw APIError(.badRequest, code: "bad_range", "granularity=hour covers at most \(maxHourDays) days; use day, week or month for longer ranges")
            }
            let from = calendar.start(ofDay: first)
            let to = calendar.start(ofDay: last + 1)
            let hourFloor = ingestor.nowMillis() / 1000 - Int64(history.configuration.hourRetentionDays) * 86_400
            if from < hourFloor { out.append(("note", .string("hours before \(Timestamp.format(millis: hourFloor * 1000)) are past history.hour_retention_days"))) }
            for (start, r) in try history.hourRollups(series: SeriesCatalog.all, from: from, to: to) {
                buckets.append(.object([("start", .string(Timestamp.format(millis: start * 1000)))] + ReportFields.members(r)))
            }
        } else {
            for b in granularity.dayBuckets(first: first, last: last) {
                var m: [(String, JSONValue)] = [("start", .string(b.label)), ("days", .number(Double(b.last - b.first + 1)))]
                m.append(("active_users", .number(Double(days.activeUsers(b.first, b.last)?.count ?? 0))))
                m += ReportFields.members(days.rollup(b.first, b.last))
                buckets.append(.object(m))
            }
        }
        out.append(("buckets", .array(buckets)))
        return .json(JSONValue.object(out).jsonBytes)
    }

    func spend(_ request: Request) throws -> Response {
        try authorizer.require(.read, request)
        let today = history.day(ofMillis: ingestor.nowMillis())
        let (first, last, _) = try range(request, defaultFirst: LocalCalendar.startOfMonth(today))
        let monthStart = LocalCalendar.startOfMonth(today)
        let from = min(first, monthStart, today - 7)
        let days = history.days(series: SeriesCatalog.all, first: from, last: last)
        let models = history.series(of: "model_used").map { s in
            (s.value, history.days(series: s.id, first: first, last: last).rollup(first, last))
        }
        let calendar = history.calendar
        let startOfToday = calendar.start(ofDay: today)
        let fraction = Double(ingestor.nowMillis() / 1000 - startOfToday) / Double(calendar.length(ofDay: today))
        let report = SpendReport(history: days, first: first, last: last, today: today, todayFraction: fraction, models: models)
        return .json(report.json.jsonBytes)
    }
}
