/// The short advice an alert carries (seed 000's insights: what to look at first). Rules may
/// set their own `recommendation`; these are the defaults per metric and KPI.
public enum AlertRecommendation {
    public static func text(for source: AlertRule.Source) -> String {
        switch source {
        case .metric(let q): text(for: q.metric)
        case .kpi(let q): text(for: q.kpi)
        }
    }

    public static func text(for metric: Metric) -> String {
        switch metric {
        case .errorRate: "Check the error_type breakdown and the latest deploy; fail over to a backup model if one provider is failing."
        case .responseTimeMs: "Compare response time by model; route traffic to a faster model or raise provider capacity."
        case .spendUSD, .tokens: "Review spend by model and org; cap prompt length or move simple prompts to a cheaper model."
        case .activeUsers, .activeSessions, .activeThreads, .messagesPerSec, .events, .eventsPerSec:
            "Check ingestion and the client SDK first (a drop is often a broken release), then product changes and campaigns."
        case .featureUsage: "Review feature discoverability: in-app guides and use-case examples for the features users skip."
        case .lateEvents: "Clients are sending late: check client clocks, offline queues and backend batch delays."
        }
    }

    public static func text(for kpi: KPI) -> String {
        switch kpi {
        case .errorRate, .successRate: "Check the error_type breakdown and the latest deploy; fail over to a backup model if one provider is failing."
        case .avgResponseTime, .p95ResponseTime: "Compare response time by model; route traffic to a faster model or raise provider capacity."
        case .aiSpend, .costPerInteraction: "Review spend by model and org; cap prompt length or move simple prompts to a cheaper model."
        case .churnRate: "Schedule proactive check-ins with at-risk accounts, offer personalised training, review adoption barriers."
        case .nps, .csat: "Read the latest detractor feedback and follow up with the accounts behind it."
        case .adoptionRate, .activeUsers, .dau, .wau, .mau, .userGrowth, .interactions:
            "Engagement is low: introduce unused agents, provide use-case examples, offer guided workflow setup."
        case .taskCompletionRate: "Look at abandoned threads: where users give up, and whether answers were slow or failed."
        }
    }

    /// Advice for an anomaly on a per-minute rate.
    public static func text(for anomaly: AnomalyMetric, high: Bool) -> String {
        switch (anomaly, high) {
        case (.errors, _): "Errors are far above this hour's usual level: check error_type, the latest deploy and provider status."
        case (_, false): "Traffic is far below this hour's usual level: check ingestion, the client SDK and service health first."
        case (_, true): "Traffic is far above this hour's usual level: check for a campaign, a retry storm or a bot, and watch capacity and spend."
        }
    }
}
