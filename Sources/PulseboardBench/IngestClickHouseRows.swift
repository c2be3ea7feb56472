import PulseboardCore

/// Converts a Pulseboard ingest batch (`{"events":[…],"context":{…}}`) into ClickHouse JSONEachRow
/// rows for the `frontend_events` table of `Benchmarks/clickhouse.sh` (seed 004's shape), once per
/// pool body at pool-build time, never on the hot path (with the project's `JSONValue` and
/// `JSONWriter`: Foundation's JSONSerialization took ~17 s of CPU for a 1024-body pool).
///
/// One row per event, every column written: `event_id` and `timestamp` first (timestamp as
/// `YYYY-MM-DD hh:mm:ss`, second precision, UTC); `user_id`, `session_id`, `page_path`, … from the
/// event, else from its `context`, else from the batch's `context`; `event_category`,
/// `event_action`, `event_label` and `event_value` derived from the event type (the value is what
/// seed 004's summary view sums or averages: tokens of chat interactions, duration of performance
/// metrics); the event's properties as a JSON string in `properties`, joined by the context fields
/// that have no column (`org_id`, `segment`), in document order. `date` and `hour` are
/// MATERIALIZED columns, so rows do not carry them.
enum IngestClickHouseRows {
    /// Context fields that have a column of their own (the rest go into `properties`).
    static let contextColumns = [
        "user_id", "session_id", "user_agent", "ip_address", "country_code", "page_path", "page_title", "referrer",
        "gtm_container_id", "environment", "app_version",
    ]

    /// The JSONEachRow rows (one line each, newline-terminated) of one batch.
    static func convert(_ batch: [UInt8]) throws -> [UInt8] {
        let root: JSONValue
        do {
            root = try JSONValue.parse(batch)
        } catch {
            throw IngestBenchmarkError.invalidPool("a synthetic batch is not JSON: \(error)")
        }
        guard case .array(let events)? = root["events"] else {
            throw IngestBenchmarkError.invalidPool("a synthetic batch has no \"events\" array")
        }
        let batchContext = members(root["context"])
        var out: [UInt8] = []
        out.reserveCapacity(batch.count * 2)
        for event in events {
            try appendRow(members(event), batchContext: batchContext, to: &out)
        }
        return out
    }

    private static func members(_ value: JSONValue?) -> [(String, JSONValue)] {
        if case .object(let members)? = value { members } else { [] }
    }

    private static func appendRow(_ event: [(String, JSONValue)], batchContext: [(String, JSONValue)], to out: inout [UInt8]) throws {
        func member(_ list: [(String, JSONValue)], _ key: String) -> JSONValue? {
            list.first { $0.0 == key }?.1
        }
        let eventContext = members(member(event, "context"))
        /// The event's own field, else its context's, else the batch context's.
        func text(_ key: String) -> String {
            for list in [event, eventContext, batchContext] {
                if case .string(let value)? = member(list, key) { return value }
            }
            return ""
        }
        let type = text("event_type")
        guard case .string(let stamp)? = member(event, "timestamp"), let timestamp = clickHouseTimestamp(stamp) else {
            throw IngestBenchmarkError.invalidPool("an event has no RFC 3339 timestamp")
        }
        var properties = members(member(event, "properties"))
        for (key, value) in eventContext + batchContext
        where !contextColumns.contains(key) && !properties.contains(where: { $0.0 == key }) {
            properties.append((key, value))
        }
        let derived = derive(type: type, properties)

        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("event_id"); w.string(text("event_id"))
        w.key("timestamp"); w.string(timestamp)
        w.key("user_id"); w.string(text("user_id"))
        w.key("session_id"); w.string(text("session_id"))
        w.key("event_type"); w.string(type)
        w.key("event_category"); w.string(derived.category)
        w.key("event_action"); w.string(derived.action)
        w.key("event_label"); w.string(derived.label)
        w.key("event_value"); w.number(derived.value)
        w.key("properties"); w.string(String(decoding: JSONValue.object(properties).jsonBytes, as: UTF8.self))
        for key in contextColumns.dropFirst(2) {
            w.key(key); w.string(text(key))
        }
        w.endObject()
        out.append(contentsOf: w.bytes)
        out.append(UInt8(ascii: "\n"))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.mmm]Z` as ClickHouse's `YYYY-MM-DD hh:mm:ss` (the fraction is dropped).
    static func clickHouseTimestamp(_ rfc3339: String) -> String? {
        var bytes = Array(rfc3339.utf8)
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T"), bytes.last == UInt8(ascii: "Z") else { return nil }
        bytes[10] = UInt8(ascii: " ")
        return String(decoding: bytes[0..<19], as: UTF8.self)
    }

    /// Seed 004's flat GTM-style columns for an event of `type`.
    static func derive(type: String, _ p: [(String, JSONValue)]) -> (category: String, action: String, label: String, value: Double) {
        func s(_ key: String) -> String {
            if case .string(let value)? = p.first(where: { $0.0 == key })?.1 { value } else { "" }
        }
        func n(_ key: String) -> Double {
            if case .number(let value)? = p.first(where: { $0.0 == key })?.1 { value } else { 0 }
        }
        switch type {
        case "chat_interaction": return ("user_interaction", s("message_type"), s("model_used"), n("tokens_consumed"))
        case "thread_lifecycle": return ("user_interaction", s("action"), s("thread_id"), n("message_count"))
        case "feature_usage": return ("user_interaction", s("action"), s("feature_name"), n("duration_ms"))
        case "survey_response": return ("survey_feedback", s("question_type"), s("survey_id"), n("response_scale"))
        case "feedback_submission": return ("survey_feedback", s("feedback_type"), "", n("score"))
        case "performance_metric": return ("technical", s("metric_type"), "", n("duration_ms"))
        case "error_tracking": return ("technical", s("error_type"), s("user_impact"), 0)
        default: return ("custom", "", "", 0)
        }
    }
}
