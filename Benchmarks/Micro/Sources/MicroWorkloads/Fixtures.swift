import PulseboardCore

/// Inputs shared by the workloads: a fixed clock, the shipped aggregation settings and
/// synthetic traffic from fixed seeds, so every run sees the same bytes.
enum Fixtures {
    /// The workloads' "now": 2026-09-21T14:13:20Z, a weekday afternoon outside the synthetic
    /// error bursts.
    static let nowMs: Int64 = 1_790_000_000_000

    /// Batches in a pool: the decode and window workloads cycle through them.
    static let poolSize = 256

    /// Events per batch, as a backend service sends them.
    static let batchSize = 100

    /// `config/pulseboard.json`'s aggregation: the default dimensions and its model prices.
    static func aggregation() -> Aggregator.Configuration {
        var c = Aggregator.Configuration()
        c.pricing = Pricing(
            perThousandTokens: ["gpt-4o": 0.005, "gpt-4o-mini": 0.0006, "claude-sonnet": 0.006, "llama-3-70b": 0.0009],
            defaultPerThousandTokens: 0.002)
        return c
    }

    /// Synthetic traffic from 50,000 users (what `pulseboard bench decode` uses).
    static func traffic(seed: UInt64 = 7) -> SyntheticTraffic {
        var c = SyntheticTraffic.Configuration()
        c.users = 50_000
        return SyntheticTraffic(configuration: c, seed: seed)
    }

    /// `count` mixed batches (many users, each event with its own ids and context) at `ms`.
    static func batchPool(count: Int = poolSize, size: Int = batchSize, atMillis ms: Int64 = nowMs) -> [[UInt8]] {
        var traffic = traffic()
        return (0..<count).map { _ in
            var body: [UInt8] = []
            traffic.appendMixedBatch(into: &body, count: size, atMillis: ms)
            return body
        }
    }

    /// Decodes `body` (known valid) into `batch`.
    static func decode(_ body: [UInt8], with decoder: EventDecoder, into batch: inout DecodedBatch, nowMs: Int64 = nowMs) {
        body.withUnsafeBytes { b in
            do {
                try decoder.decode(b, format: .json, nowMs: nowMs, into: &batch)
            } catch {
                preconditionFailure("synthetic batch did not decode: \(error)")
            }
        }
    }

    /// `dashboards/engagement.json` (layout left out), copied so that editing the shipped
    /// dashboard does not move the thresholds: the live board, filterable by `org_id`.
    static let engagementSpecJSON = #"""
        {
          "id": "engagement",
          "title": "User engagement",
          "refresh_ms": 1000,
          "variables": { "org_id": { "default": "any", "values": "any", "label": "Organisation" } },
          "widgets": [
            { "id": "active_users", "type": "stat", "title": "Active users (5 min)",
              "query": { "metric": "active_users", "window": "5m", "filter": "org_id:$org_id" },
              "format": { "decimals": 0, "compact": true } },
            { "id": "active_sessions", "type": "stat", "title": "Active chat sessions, all orgs (5 min)",
              "query": { "metric": "active_sessions", "window": "5m" } },
            { "id": "avg_response", "type": "stat", "title": "Average AI response time",
              "query": { "metric": "response_time_ms", "aggregation": "avg", "window": "5m", "filter": "org_id:$org_id" },
              "unit": "ms", "sparkline": true,
              "thresholds": { "direction": "above", "warning": { "value": 1500 }, "critical": { "value": 3000 } } },
            { "id": "error_rate", "type": "stat", "title": "Error rate",
              "query": { "metric": "error_rate", "window": "5m", "filter": "org_id:$org_id" },
              "unit": "%", "format": { "decimals": 1, "compact": false },
              "thresholds": { "direction": "above", "warning": { "value": 0.02 }, "critical": { "value": 0.05 } } },
            { "id": "messages_per_sec", "type": "timeseries", "title": "Messages per second",
              "query": { "metric": "messages_per_sec", "window": "5m", "filter": "org_id:$org_id" },
              "format": { "decimals": 2, "compact": false } },
            { "id": "events_by_type", "type": "bar", "title": "Events by type (5 min)",
              "query": { "metric": "events", "window": "5m", "group_by": "event_type", "top": 8 } }
          ]
        }
        """#

    /// The engagement dashboard, parsed.
    static func engagementSpec() -> DashboardSpec {
        switch DashboardSpecParser().parse(Array(engagementSpecJSON.utf8), fileId: "engagement") {
        case .success(let spec): spec
        case .failure(let errors): preconditionFailure("engagement spec: \(errors)")
        }
    }

    /// The engagement dashboard's default variables (`org_id` = any), resolved.
    static func engagementVariables(_ spec: DashboardSpec) -> [String: String] {
        do {
            return try spec.resolve([:])
        } catch {
            preconditionFailure("engagement variables: \(error)")
        }
    }
}
