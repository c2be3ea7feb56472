/// The live metrics the aggregator answers, with their documentation.
public enum Metric: String, Sendable, CaseIterable, Codable {
    case events
    case eventsPerSec = "events_per_sec"
    case activeUsers = "active_users"
    case activeSessions = "active_sessions"
    case activeThreads = "active_threads"
    case messagesPerSec = "messages_per_sec"
    case responseTimeMs = "response_time_ms"
    case tokens
    case spendUSD = "spend_usd"
    case errorRate = "error_rate"
    case featureUsage = "feature_usage"
    case lateEvents = "late_events"

    /// One line on what the metric measures (served by `GET /api/metrics` and in the README).
    public var summary: String {
        switch self {
        case .events: "Events received in the window (all types, or one with filter=event_type:…)."
        case .eventsPerSec: "Events per second: events in the window / window seconds; series per bucket."
        case .activeUsers: "Distinct users with any event in the window (exact)."
        case .activeSessions: "Distinct session_id values with any event in the window (exact)."
        case .activeThreads: "Distinct chat thread_id values (chat_interaction, thread_lifecycle) in the window (exact)."
        case .messagesPerSec: "chat_interaction events per second over the window."
        case .responseTimeMs: "AI response time (chat_interaction.response_time_ms): avg, max (exact) or p50/p90/p95/p99 (DDSketch, ≤1 % relative error)."
        case .tokens: "Sum of chat_interaction.tokens_consumed."
        case .spendUSD: "AI spend in USD: tokens_consumed / 1000 × the model's price (pricing.per_1k_tokens, else pricing.default_per_1k_tokens)."
        case .errorRate: "per_interaction: error_tracking events / chat_interaction events; failed: failed performance_metric + feature_usage / all of them."
        case .featureUsage: "feature_usage events; group_by=feature_name for usage by feature."
        case .lateEvents: "Events that arrived more than aggregation.late_after_seconds after their timestamp, counted when they arrived."
        }
    }

    public var unit: String {
        switch self {
        case .events, .featureUsage, .lateEvents: "events"
        case .eventsPerSec: "events/s"
        case .activeUsers: "users"
        case .activeSessions: "sessions"
        case .activeThreads: "threads"
        case .messagesPerSec: "messages/s"
        case .responseTimeMs: "ms"
        case .tokens: "tokens"
        case .spendUSD: "USD"
        case .errorRate: "ratio"
        }
    }

    /// Allowed `agg` values; the first is the default.
    public var aggregations: [String] {
        switch self {
        case .responseTimeMs: ["avg", "p50", "p90", "p95", "p99", "max"]
        case .errorRate: ["per_interaction", "failed"]
        default: ["value"]
        }
    }

    /// Distinct counts: exact values, no per-bucket series.
    public var isDistinct: Bool {
        self == .activeUsers || self == .activeSessions || self == .activeThreads
    }

    /// Whether the query returns a per-bucket series.
    public var hasSeries: Bool { !isDistinct }

    /// Per-second rates: a count divided by the seconds it was counted over.
    public var isRate: Bool { self == .eventsPerSec || self == .messagesPerSec }
}
