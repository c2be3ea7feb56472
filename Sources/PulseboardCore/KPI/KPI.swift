/// The executive KPIs of seed 000 (growth, efficiency, satisfaction, AI performance), each a
/// formula over merged `Rollup`s and active-user sets of a window of whole local days.
/// Served by `GET /api/kpis`, usable as a widget query (`{"kpi": "nps", "window": "30d"}`).
public enum KPI: String, Sendable, CaseIterable, Codable {
    case activeUsers = "active_users"
    case dau, wau, mau
    case userGrowth = "user_growth"
    case adoptionRate = "adoption_rate"
    case taskCompletionRate = "task_completion_rate"
    case avgResponseTime = "avg_response_time"
    case p95ResponseTime = "p95_response_time"
    case costPerInteraction = "cost_per_interaction"
    case aiSpend = "ai_spend"
    case interactions
    case nps, csat
    case churnRate = "churn_rate"
    case successRate = "success_rate"
    case errorRate = "error_rate"

    /// The dashboard group a KPI belongs to.
    public enum Group: String, Sendable, CaseIterable {
        case growth, efficiency, satisfaction
        case aiPerformance = "ai_performance"
    }

    public var group: Group {
        switch self {
        case .activeUsers, .dau, .wau, .mau, .userGrowth, .adoptionRate: .growth
        case .taskCompletionRate, .avgResponseTime, .costPerInteraction, .aiSpend, .interactions: .efficiency
        case .nps, .csat, .churnRate: .satisfaction
        case .p95ResponseTime, .successRate, .errorRate: .aiPerformance
        }
    }

    /// The formula, as documented in the README and `GET /api/kpis`.
    public var formula: String {
        switch self {
        case .activeUsers: "distinct users with an activity event in the window (exact; HyperLogLog ±1.6 % under a filter)"
        case .dau: "distinct active users on the window's last day"
        case .wau: "distinct active users in the 7 days ending on the window's last day"
        case .mau: "distinct active users in the 30 days ending on the window's last day"
        case .userGrowth: "(active users this window − active users the window before) / active users the window before × 100"
        case .adoptionRate: "active users in the window / all users ever seen (not forgotten)"
        case .taskCompletionRate: "thread_lifecycle completed / (completed + abandoned)"
        case .avgResponseTime: "sum of chat_interaction.response_time_ms / interactions that carried it"
        case .p95ResponseTime: "95th percentile of chat_interaction.response_time_ms (DDSketch, ±1 % relative)"
        case .costPerInteraction: "AI spend / chat_interaction events"
        case .aiSpend: "sum of tokens_consumed / 1000 × the model's price per 1k tokens (USD)"
        case .interactions: "chat_interaction events"
        case .nps: "% of NPS scores 9–10 − % of NPS scores 0–6 (feedback_submission, feedback_type nps)"
        case .csat: "% of CSAT scores ≥ 4 on 1–5 (feedback_submission, feedback_type csat)"
        case .churnRate: "users active in the window before and not in this one / users active in the window before"
        case .successRate: "feature_usage events with success true / all feature_usage events (AI features that did their job)"
        case .errorRate: "error_tracking events / chat_interaction events"
        }
    }

    public var unit: String {
        switch self {
        case .activeUsers, .dau, .wau, .mau: "users"
        case .userGrowth: "%"
        case .adoptionRate, .taskCompletionRate, .churnRate, .successRate, .errorRate: "ratio"
        case .avgResponseTime, .p95ResponseTime: "ms"
        case .costPerInteraction, .aiSpend: "USD"
        case .interactions: "interactions"
        case .nps: "score"
        case .csat: "%"
        }
    }

    /// Whether a rise is good news (drives the colour of a comparison).
    public var higherIsBetter: Bool {
        switch self {
        case .avgResponseTime, .p95ResponseTime, .costPerInteraction, .churnRate, .errorRate: false
        case .aiSpend: false
        default: true
        }
    }

    /// Whether the KPI needs active-user sets (exact only for all traffic).
    public var needsUsers: Bool {
        switch self {
        case .activeUsers, .dau, .wau, .mau, .userGrowth, .adoptionRate, .churnRate: true
        default: false
        }
    }

    /// Values from fewer samples than this are flagged `low_sample`.
    public static let minimumSample = 30

    /// Evaluates the KPI on a window's inputs.
    public func evaluate(_ input: KPIInput) -> KPIValue {
        let r = input.rollup
        func ratio(_ a: UInt64, _ b: UInt64) -> KPIValue {
            KPIValue(value: b > 0 ? Double(a) / Double(b) : nil, n: Int(b))
        }
        switch self {
        case .activeUsers, .dau, .wau, .mau:
            guard let users = input.activeUsers else { return KPIValue(value: nil, n: 0) }
            var v = KPIValue(value: Double(users), n: users)
            if let e = input.activeUsersRelativeError { v.errorBound = Double(users) * e }
            return v
        case .userGrowth:
            guard let cur = input.activeUsers, let prev = input.previousActiveUsers else { return KPIValue(value: nil, n: 0) }
            return KPIValue(value: prev > 0 ? (Double(cur) - Double(prev)) / Double(prev) * 100 : nil, n: prev)
        case .adoptionRate:
            guard let cur = input.activeUsers, let known = input.knownUsers else { return KPIValue(value: nil, n: 0) }
            return KPIValue(value: known > 0 ? Double(cur) / Double(known) : nil, n: known)
        case .churnRate:
            guard let churned = input.churnedUsers, let prev = input.previousActiveUsers else { return KPIValue(value: nil, n: 0) }
            return KPIValue(value: prev > 0 ? Double(churned) / Double(prev) : nil, n: prev)
        case .taskCompletionRate:
            return ratio(r.threadsCompleted, r.threadsCompleted + r.threadsAbandoned)
        case .avgResponseTime:
            return KPIValue(value: r.averageResponseMs, n: Int(r.responseCount))
        case .p95ResponseTime:
            var v = KPIValue(value: r.responseTimes.quantile(0.95), n: Int(r.responseCount))
            if let x = v.value { v.errorBound = x * QuantileSketch.relativeAccuracy }
            return v
        case .costPerInteraction:
            let n = r[.chatInteraction]
            return KPIValue(value: n > 0 ? r.spendUSD / Double(n) : nil, n: Int(n))
        case .aiSpend:
            return KPIValue(value: r.spendUSD, n: Int(r[.chatInteraction]))
        case .interactions:
            let n = r[.chatInteraction]
            return KPIValue(value: Double(n), n: Int(n))
        case .nps:
            let n = r.npsResponses
            guard n > 0 else { return KPIValue(value: nil, n: 0) }
            return KPIValue(value: (Double(r.npsPromoters) - Double(r.npsDetractors)) / Double(n) * 100, n: Int(n))
        case .csat:
            let n = r.csatResponses
            return KPIValue(value: n > 0 ? Double(r.csatSatisfied) / Double(n) * 100 : nil, n: Int(n))
        case .successRate:
            let n = r[.featureUsage]
            return KPIValue(value: n > 0 ? Double(n - min(n, r.failedFeatures)) / Double(n) : nil, n: Int(n))
        case .errorRate:
            return ratio(r[.errorTracking], r[.chatInteraction])
        }
    }
}

/// What a KPI is computed from: the merged rollup of the window and, for user KPIs, counts of
/// active-user sets.
public struct KPIInput: Sendable {
    public var rollup: Rollup
    public var activeUsers: Int?
    /// Relative error of `activeUsers` when it is an estimate (HyperLogLog), nil when exact.
    public var activeUsersRelativeError: Double?
    public var previousActiveUsers: Int?
    public var churnedUsers: Int?
    public var knownUsers: Int?

    public init(rollup: Rollup = Rollup(), activeUsers: Int? = nil, activeUsersRelativeError: Double? = nil,
                previousActiveUsers: Int? = nil, churnedUsers: Int? = nil, knownUsers: Int? = nil) {
        self.rollup = rollup
        self.activeUsers = activeUsers
        self.activeUsersRelativeError = activeUsersRelativeError
        self.previousActiveUsers = previousActiveUsers
        self.churnedUsers = churnedUsers
        self.knownUsers = knownUsers
    }
}

/// A KPI value with its sample size; `lowSample` below `KPI.minimumSample`, `errorBound` (±,
/// in the KPI's unit) for approximate values.
public struct KPIValue: Sendable, Equatable {
    public var value: Double?
    public var n: Int
    public var errorBound: Double?

    public init(value: Double?, n: Int, errorBound: Double? = nil) {
        self.value = value
        self.n = n
        self.errorBound = errorBound
    }

    public var lowSample: Bool { n < KPI.minimumSample }
}
