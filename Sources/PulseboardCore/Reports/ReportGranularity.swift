/// The bucket size of a report: UTC hours (from hour rollups), or local days, ISO weeks
/// (Monday first) and calendar months in `history.time_zone`.
public enum ReportGranularity: String, Sendable, CaseIterable {
    case hour, day, week, month

    /// Local-day buckets `[first, last]` covering days `first…last` (the first and last buckets
    /// are cut to the range), labelled by their first day (`2026-11-30`).
    public func dayBuckets(first: Int64, last: Int64) -> [(label: String, first: Int64, last: Int64)] {
        guard first <= last else { return [] }
        var out: [(String, Int64, Int64)] = []
        var d = first
        while d <= last {
            let end: Int64 = switch self {
            case .hour, .day: d
            case .week: LocalCalendar.startOfWeek(d) + 6
            case .month: LocalCalendar.adding(months: 1, to: LocalCalendar.startOfMonth(d)) - 1
            }
            let cut = min(end, last)
            out.append((LocalCalendar.date(ofDay: d).description, d, cut))
            d = cut + 1
        }
        return out
    }
}

/// The counts every report bucket shows, from one merged rollup.
public enum ReportFields {
    /// `events`, `interactions`, `errors`, `threads_completed`, `ai_spend_usd`,
    /// `avg_response_time_ms`, `p95_response_time_ms` (the last two only with samples).
    public static func members(_ r: Rollup) -> [(String, JSONValue)] {
        var m: [(String, JSONValue)] = [
            ("events", .number(Double(r.events))),
            ("interactions", .number(Double(r[.chatInteraction]))),
            ("errors", .number(Double(r[.errorTracking]))),
            ("threads_completed", .number(Double(r.threadsCompleted))),
            ("ai_spend_usd", .number(JSONWriter.rounded(r.spendUSD))),
        ]
        if let avg = r.averageResponseMs {
            m.append(("avg_response_time_ms", .number(JSONWriter.rounded(avg))))
            if let p95 = r.responseTimes.quantile(0.95) { m.append(("p95_response_time_ms", .number(JSONWriter.rounded(p95)))) }
        }
        return m
    }
}
