import Foundation

/// Every configuration key: its type, default and meaning. The loader, the environment overlay
/// (`PULSEBOARD_` + key in upper case with `.` → `_`) and the README table all come from here.
public struct ConfigurationKey: Sendable {
    public enum Kind: Sendable {
        case string, bool, stringList, stringNumberMap, apiKeys
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case oneOf([String])
    }

    public var key: String
    public var kind: Kind
    public var defaultValue: String
    public var summary: String

    /// The environment variable that sets this key.
    public var environmentName: String {
        "PULSEBOARD_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    public static let all: [ConfigurationKey] = [
        .init(key: "server.host", kind: .string, defaultValue: "127.0.0.1", summary: "Address to bind (`--host`). A non-loopback address requires `auth.keys`."),
        .init(key: "server.port", kind: .integer(0...65535), defaultValue: "8080", summary: "TCP port (`--port`)."),
        .init(key: "server.max_connections", kind: .integer(1...19_000), defaultValue: "16000", summary: "Open connections served at once; more are answered `503 too_many_connections` (the process has 20,000 file descriptors)."),
        .init(key: "server.backlog", kind: .integer(16...65_535), defaultValue: "4096", summary: "Connections the kernel queues before they are accepted (capped by `net.core.somaxconn`); bursts of subscribers reconnecting at once need room."),
        .init(key: "server.cors_allowed_origins", kind: .stringList, defaultValue: "[]", summary: "Origins allowed to call the API from a browser (`*` for any); empty = same origin only."),
        .init(key: "paths.data_dir", kind: .string, defaultValue: "./data", summary: "Journal and state directory (`--data-dir`)."),
        .init(key: "paths.dashboards", kind: .string, defaultValue: "dashboards", summary: "Dashboard specs directory (`--dashboards`)."),
        .init(key: "paths.public", kind: .string, defaultValue: "public", summary: "Static files served at `/` (`--public`)."),
        .init(key: "ingest.max_body_bytes", kind: .integer(1024...1_073_741_824), defaultValue: "5242880", summary: "Largest request body (413 above)."),
        .init(key: "ingest.max_events_per_batch", kind: .integer(1...100_000), defaultValue: "1000", summary: "Most events in one request (413 above)."),
        .init(key: "ingest.max_events_per_user_per_minute", kind: .integer(0...10_000_000), defaultValue: "1000", summary: "Per-user rate limit per calendar minute (0 = off); excess events are rejected, a fully limited batch gets 429."),
        .init(key: "ingest.max_properties", kind: .integer(1...10_000), defaultValue: "64", summary: "Most properties per event."),
        .init(key: "ingest.max_properties_bytes", kind: .integer(64...10_485_760), defaultValue: "8192", summary: "Largest `properties` object per event, in bytes as sent."),
        .init(key: "ingest.max_future_seconds", kind: .integer(0...86_400), defaultValue: "300", summary: "How far ahead of server time a timestamp may be."),
        .init(key: "ingest.strict", kind: .bool, defaultValue: "false", summary: "Reject event types outside the seed taxonomy instead of counting them as custom."),
        .init(key: "ingest.dedup_horizon_seconds", kind: .integer(0...2_592_000), defaultValue: "86400", summary: "How long an `event_id` is remembered for deduplication."),
        .init(key: "ingest.dedup_max_ids", kind: .integer(1000...100_000_000), defaultValue: "5000000", summary: "Cap on remembered `event_id`s (~40 B each); past it the oldest are forgotten early."),
        .init(key: "journal.write_policy", kind: .oneOf(["batched", "durable"]), defaultValue: "batched", summary: "`durable`: fsync before the 2xx (group commit). `batched`: written before the 2xx, fsynced every `journal.fsync_interval_ms`."),
        .init(key: "journal.fsync_interval_ms", kind: .integer(1...60_000), defaultValue: "50", summary: "fsync period of the batched policy (the most a power cut can lose)."),
        .init(key: "journal.segment_bytes", kind: .integer(1_048_576...4_294_967_296), defaultValue: "67108864", summary: "Segment size before a new segment file starts."),
        .init(key: "retention.raw_days", kind: .integer(1...3650), defaultValue: "90", summary: "Journal segments older than this are deleted (checked hourly)."),
        .init(key: "aggregation.dimensions", kind: .stringList, defaultValue: DimensionDefaults.list, summary: "Properties (or context fields) events can be grouped and filtered by; `event_type` is always one. At most 32."),
        .init(key: "aggregation.max_values_per_dimension", kind: .integer(1...100_000), defaultValue: "1000", summary: "Distinct values tracked per dimension; later values are counted under `other`."),
        .init(key: "aggregation.late_after_seconds", kind: .integer(1...86_400), defaultValue: "60", summary: "An event this much older than its arrival counts as late."),
        .init(key: "pricing.per_1k_tokens", kind: .stringNumberMap, defaultValue: #"{"gpt-4o":0.005,"gpt-4o-mini":0.0006,"claude-sonnet":0.006,"llama-3-70b":0.0009}"#, summary: "USD per 1,000 tokens by `model_used`."),
        .init(key: "pricing.default_per_1k_tokens", kind: .number(0...1000), defaultValue: "0.002", summary: "USD per 1,000 tokens for models not listed."),
        .init(key: "auth.keys", kind: .apiKeys, defaultValue: "[]", summary: "API keys: `[{\"name\",\"secret\",\"scopes\":[\"ingest\"|\"read\"|\"admin\"]}]`. Empty = auth off (loopback only)."),
        .init(key: "push.subscriber_buffer_bytes", kind: .integer(1024...67_108_864), defaultValue: "262144", summary: "Bytes a stream connection may have waiting to be written; past it its deltas are coalesced into one fresh snapshot sent when the socket drains."),
        .init(key: "push.delta_retention_seconds", kind: .integer(1...3600), defaultValue: "120", summary: "How long each topic keeps its deltas for resume (`Last-Event-ID`, `since`); idle topics are dropped after it."),
        .init(key: "push.heartbeat_seconds", kind: .integer(1...3600), defaultValue: "15", summary: "SSE heartbeat comment period; WebSockets are pinged every two periods and closed when they answer nothing for four."),
        .init(key: "push.max_topics", kind: .integer(1...1_000_000), defaultValue: "1000", summary: "Live topics (dashboard × variable values) at most; a subscription past it gets 503."),
        .init(key: "push.max_subscriptions_per_connection", kind: .integer(1...1000), defaultValue: "16", summary: "Subscriptions one WebSocket connection may hold."),
        .init(key: "push.unwritable_timeout_seconds", kind: .integer(1...3600), defaultValue: "30", summary: "A stream connection that stays unwritable this long (its client not reading) is disconnected."),
        .init(key: "push.direct_writes", kind: .bool, defaultValue: "true", summary: "Deltas, heartbeats and pings go straight to the socket with one `send(2)` while NIO holds nothing for the connection (else, and for what a full socket leaves, through NIO). `false` sends every write through NIO's channel."),
        .init(key: "push.phase_size", kind: .integer(0...1_000_000), defaultValue: "1000", summary: "Subscribers one phase of a topic takes before the next phase opens; each phase sends its own frames at its own offset within the refresh, so 10,000 subscribers are written in ten bursts of 1,000, 100 ms apart, not one. `0`: one phase."),
        .init(key: "push.max_phases", kind: .integer(1...100), defaultValue: "10", summary: "Phases a topic splits into at most (fewer when the refresh is short: never closer than 50 ms apart); past that the least-filled phase takes new subscribers."),
        .init(key: "push.max_streams", kind: .integer(1...19_000), defaultValue: "15000", summary: "Open SSE streams and WebSocket connections at most; more are answered 503 (below `server.max_connections`, so plain requests still get through)."),
        .init(key: "history.time_zone", kind: .string, defaultValue: "UTC", summary: "IANA time zone of day, week, month, quarter and year boundaries for KPIs, trends, comparisons and reports (e.g. `Europe/Paris`)."),
        .init(key: "history.flush_interval_ms", kind: .integer(1000...600_000), defaultValue: "10000", summary: "Arrival-time slot after which events are written to the rollup store (with the journal watermark, in one transaction)."),
        .init(key: "history.minute_retention_days", kind: .integer(1...90), defaultValue: "7", summary: "Minute rollups (all traffic) kept this many days."),
        .init(key: "history.hour_retention_days", kind: .integer(1...3650), defaultValue: "90", summary: "Hourly rollups (every series) kept this many days."),
        .init(key: "history.day_retention_days", kind: .integer(1...36_500), defaultValue: "730", summary: "Daily rollups and per-day active-user sets kept this many days."),
        .init(key: "history.active_event_types", kind: .stringList, defaultValue: #"["chat_interaction","thread_lifecycle","feature_usage","survey_response","feedback_submission","custom"]"#, summary: "Event types that make a user active for DAU/WAU/MAU, churn, growth and adoption (`custom` = types outside the taxonomy)."),
        .init(key: "kpi.benchmarks_file", kind: .string, defaultValue: "config/benchmarks.json", summary: "Industry benchmark values per KPI, for `compare: [\"benchmark\"]`; a missing file means no benchmarks."),
        .init(key: "alerts.rules_file", kind: .string, defaultValue: "config/alerts.json", summary: "Alert rules and anomaly-detection settings (see Alerts); a missing file means no threshold rules and default anomaly detection."),
        .init(key: "alerts.evaluate_interval_ms", kind: .integer(100...60_000), defaultValue: "1000", summary: "How often threshold rules are evaluated; anomalies are evaluated once a minute."),
        .init(key: "alerts.history_limit", kind: .integer(10...1_000_000), defaultValue: "1000", summary: "Past alerts kept (in memory and in `<data-dir>/alerts.ndjson`) for `GET /api/alerts`."),
        .init(key: "demo.history_days", kind: .integer(0...730), defaultValue: "400", summary: "Days of sampled history `--demo` generates on an empty data directory (0 = none); 400 days give every comparison, `last_year` included, data from the first minute."),
        .init(key: "log.level", kind: .oneOf(["trace", "debug", "info", "notice", "warning", "error", "critical"]), defaultValue: "info", summary: "Log level."),
        .init(key: "demo.users", kind: .integer(1...10_000_000), defaultValue: "2000", summary: "Users simulated by `--demo`."),
        .init(key: "demo.peak_events_per_second", kind: .number(0.1...1_000_000), defaultValue: "60", summary: "Event rate of `--demo` at the daily peak."),
    ]
}

enum DimensionDefaults {
    static let list = "[" + [
        "event_type", "model_used", "feature_name", "message_type", "org_id", "segment", "page_path",
        "metric_type", "error_type", "user_impact", "feedback_type", "action",
    ].map { "\"\($0)\"" }.joined(separator: ",") + "]"
}
