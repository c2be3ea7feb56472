/// Seed 004's AI-spend analytics over whole local days: total spend, per active user, per
/// successful outcome (a completed thread), by model, per day, and, when the range ends today,
/// the month-end projection: spend so far this month + the average of the last 7 whole days ×
/// the days left in the month.
public struct SpendReport: Sendable {
    public var first: Int64
    public var last: Int64
    public var total: Double
    public var activeUsers: Int
    public var successfulOutcomes: UInt64
    public var interactions: UInt64
    public var daily: [(day: Int64, spend: Double)]
    public var byModel: [(model: String, spend: Double)]
    /// Spend this month to now, and projected to the month's end (nil unless `last` is today).
    public var monthToDate: Double?
    public var projectedMonth: Double?

    /// Builds the report from the all-traffic days `history` (which must cover `first - 7…last`)
    /// and the per-model day rollups. `todayFraction` is the share of today already elapsed.
    public init(
        history: DailyHistory, first: Int64, last: Int64, today: Int64, todayFraction: Double, models: [(String, Rollup)]
    ) {
        self.first = first
        self.last = last
        let r = history.rollup(first, last)
        total = r.spendUSD
        activeUsers = history.activeUsers(first, last)?.count ?? 0
        successfulOutcomes = r.threadsCompleted
        interactions = r[.chatInteraction]
        daily = (first...last).map { d in (d, history.rollup(d, d).spendUSD) }
        byModel = models.map { ($0.0, $0.1.spendUSD) }.filter { $0.1 > 0 }.sorted { $0.1 > $1.1 }
        guard last == today else { return }
        let monthStart = LocalCalendar.startOfMonth(today)
        let monthEnd = LocalCalendar.adding(months: 1, to: monthStart) - 1
        let mtd = history.rollup(monthStart, today).spendUSD
        let recent = history.rollup(today - 7, today - 1).spendUSD / 7
        monthToDate = mtd
        projectedMonth = mtd + recent * (Double(monthEnd - today) + (1 - min(1, max(0, todayFraction))))
    }

    public var perActiveUser: Double? { activeUsers > 0 ? total / Double(activeUsers) : nil }
    public var perSuccessfulOutcome: Double? { successfulOutcomes > 0 ? total / Double(successfulOutcomes) : nil }
    public var perInteraction: Double? { interactions > 0 ? total / Double(interactions) : nil }

    public var json: JSONValue {
        var m: [(String, JSONValue)] = [
            ("report", .string("ai-spend")),
            ("start_date", .string(LocalCalendar.date(ofDay: first).description)),
            ("end_date", .string(LocalCalendar.date(ofDay: last).description)),
            ("total_usd", .number(JSONWriter.rounded(total))),
            ("active_users", .number(Double(activeUsers))),
        ]
        func add(_ key: String, _ v: Double?) { if let v { m.append((key, .number(JSONWriter.rounded(v)))) } }
        add("per_active_user_usd", perActiveUser)
        m.append(("successful_outcomes", .number(Double(successfulOutcomes))))
        add("per_successful_outcome_usd", perSuccessfulOutcome)
        add("per_interaction_usd", perInteraction)
        add("month_to_date_usd", monthToDate)
        add("projected_month_usd", projectedMonth)
        m.append(("by_model", .object(byModel.map { ($0.model, .number(JSONWriter.rounded($0.spend))) })))
        m.append(("daily", .object(daily.map { (LocalCalendar.date(ofDay: $0.day).description, .number(JSONWriter.rounded($0.spend))) })))
        return .object(m)
    }
}
