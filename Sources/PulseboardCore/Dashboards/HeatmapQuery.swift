/// A `heatmap` widget's query: one metric per local hour of the week (Monday 00:00 … Sunday
/// 23:00), averaged over the last `days` days of hour rollups (`window: "28d"`).
public struct HeatmapQuery: Sendable, Equatable {
    /// Metrics an hour rollup can answer.
    public static let metrics: [Metric] = [.events, .eventsPerSec, .messagesPerSec, .featureUsage, .tokens, .spendUSD, .responseTimeMs, .errorRate]
    public static let defaultDays = 28

    public var metric: Metric
    public var window: String
    public var days: Int
    public var filterKey: String?
    public var filterValue: String?

    public init(metric: Metric, window: String, days: Int, filterKey: String? = nil, filterValue: String? = nil) {
        self.metric = metric
        self.window = window
        self.days = days
        self.filterKey = filterKey
        self.filterValue = filterValue
    }

    /// The cell value of `rollup`, the merge of `hours` hours at one hour of the week: counts
    /// and rates per hour on average, response time and error rate over all of them.
    public func value(of rollup: Rollup, hours: Int) -> Double? {
        guard hours > 0 else { return nil }
        let h = Double(hours)
        switch metric {
        case .events: return Double(rollup.events) / h
        case .eventsPerSec: return Double(rollup.events) / h / 3600
        case .messagesPerSec: return Double(rollup[.chatInteraction]) / h / 3600
        case .featureUsage: return Double(rollup[.featureUsage]) / h
        case .tokens: return rollup.tokens / h
        case .spendUSD: return rollup.spendUSD / h
        case .responseTimeMs: return rollup.averageResponseMs
        case .errorRate:
            let chats = rollup[.chatInteraction]
            return chats > 0 ? Double(rollup[.errorTracking]) / Double(chats) : nil
        default: return nil
        }
    }
}

/// Hour rollups merged by local hour of the week: `cells[weekday * 24 + hour]` (weekday 0 =
/// Monday) and how many hours of the window fell in each cell.
public struct HourOfWeekGrid: Sendable {
    public var cells = [Rollup](repeating: Rollup(), count: 168)
    public var hours = [Int](repeating: 0, count: 168)
    /// The IANA time zone of the weekdays and hours.
    public var timeZone = "UTC"
    public init() {}

    /// The cell of UTC second `t` at `offset` seconds east of UTC.
    public static func cell(ofSecond t: Int64, offset: Int64) -> Int {
        let local = t + offset
        let day = LocalCalendar.floorDiv(local, 86_400)
        return LocalCalendar.weekday(ofDay: day) * 24 + Int((local - day * 86_400) / 3600)
    }
}
