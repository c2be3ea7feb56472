import Foundation

/// Realistic synthetic usage of an AI product, as JSON ingest batches: the seven seed event types,
/// users spread over orgs and segments, a daily and weekly rhythm, lognormal response times, a
/// handful of models, feedback scores, and short error bursts. Drives `--demo`, the benchmark
/// client and randomized tests.
public struct SyntheticTraffic: Sendable {
    /// What to generate.
    public struct Configuration: Sendable {
        public var users = 2000
        public var orgs = 40
        /// Events per second at the daily peak (before the weekly factor).
        public var peakEventsPerSecond = 60.0
        /// Share of each 20-minute cycle spent in an error burst.
        public var burstSeconds = 90
        public var models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama-3-70b"]
        public init() {}
    }

    public let configuration: Configuration
    var rng: SplitMix64
    var counter: UInt64 = 0

    public static let features = ["search", "export_csv", "share_thread", "prompt_library", "cost_report", "model_picker", "file_upload", "workflow_builder"]
    public static let segments = ["early", "mid", "enterprise"]
    public static let pages = ["/chat", "/threads", "/reports", "/settings", "/library", "/billing"]
    static let errorTypes = ["TimeoutError", "RateLimitError", "NetworkError", "RenderError", "ValidationError"]
    static let impacts = ["critical", "high", "medium", "low"]
    static let metricTypes = ["page_load", "api_call", "websocket", "render"]
    static let questionTypes = ["pain_perception", "magic_wand", "spending", "planning"]
    static let threadActions = ["created", "continued", "completed", "abandoned"]

    public init(configuration: Configuration = Configuration(), seed: UInt64) {
        self.configuration = configuration
        self.rng = SplitMix64(seed: seed)
    }

    /// Expected events per second at `ms`: a daily curve peaking mid-afternoon UTC, lower at weekends.
    public func rate(atMillis ms: Int64) -> Double {
        let hour = Double((ms / 1000) % 86_400) / 3600
        return configuration.peakEventsPerSecond * SyntheticTraffic.daily(hour: hour) * SyntheticTraffic.weekly(dayNumber: ms / 86_400_000)
    }

    /// The daily curve (UTC hour → share of the peak rate, 0.35…1, peak at 14:00); history
    /// follows the same curve so live minutes match their hour-of-week baseline.
    public static func daily(hour: Double) -> Double {
        0.35 + 0.65 * max(0, (1 + cos((hour - 14) / 24 * 2 * Double.pi)) / 2)
    }

    /// Weekends run at 60 % of weekdays (day number since 1970-01-01, a Thursday).
    public static func weekly(dayNumber: Int64) -> Double {
        let weekday = (Int(dayNumber) + 4) % 7  // 0 = Sunday
        return weekday == 0 || weekday == 6 ? 0.6 : 1.0
    }

    /// Mean of `daily` over a day.
    public static let meanDaily = 0.675

    /// When set, users are drawn from these (the day's active users of the demo's history), so
    /// today's active users look like every day before.
    public var userPool: [Int] = []

    @inline(__always) mutating func pickUser() -> Int {
        userPool.isEmpty ? Int(rng.next() % UInt64(configuration.users)) : userPool[Int(rng.next() % UInt64(userPool.count))]
    }

    /// Whether `ms` falls in one of the periodic error bursts.
    public func inErrorBurst(atMillis ms: Int64) -> Bool {
        (ms / 1000) % 1200 < Int64(configuration.burstSeconds) && configuration.burstSeconds > 0
    }

    /// Appends a batch `{"events":[…],"context":{…}}` of `count` events from one user session.
    public mutating func appendBatch(into out: inout [UInt8], count: Int, atMillis ms: Int64, eventIds: Bool = true) {
        let user = pickUser()
        out.append(contentsOf: Array(#"{"events":["#.utf8))
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            appendEvent(into: &out, user: user, atMillis: ms - Int64(count - i) * 37, perEventUser: false, eventIds: eventIds)
        }
        out.append(contentsOf: Array(#"],"context":{"user_id":"u-"#.utf8))
        appendInt(&out, user)
        out.append(contentsOf: Array(#"","session_id":"s-"#.utf8))
        appendInt(&out, user)
        out.append(UInt8(ascii: "-"))
        appendInt(&out, Int(ms / 1_800_000))
        appendContextTail(&out, user: user)
        out.append(contentsOf: Array("}}".utf8))
    }

    /// Appends a batch of `count` events from many users (a backend service's batch); each event
    /// carries its own `user_id`, `session_id` and `context`.
    public mutating func appendMixedBatch(into out: inout [UInt8], count: Int, atMillis ms: Int64, eventIds: Bool = true) {
        out.append(contentsOf: Array(#"{"events":["#.utf8))
        for i in 0..<count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            let user = pickUser()
            appendEvent(into: &out, user: user, atMillis: ms, perEventUser: true, eventIds: eventIds)
        }
        out.append(contentsOf: Array("]}".utf8))
    }

    mutating func appendContextTail(_ out: inout [UInt8], user: Int) {
        let org = user % configuration.orgs
        out.append(contentsOf: Array(#"","org_id":"org-"#.utf8))
        appendInt(&out, org)
        out.append(contentsOf: Array(#"","segment":""#.utf8))
        out.append(contentsOf: Array(SyntheticTraffic.segments[org % 3].utf8))
        out.append(contentsOf: Array(#"","page_path":""#.utf8))
        out.append(contentsOf: Array(SyntheticTraffic.pages[Int(rng.next() % 6)].utf8))
        out.append(UInt8(ascii: "\""))
    }

    mutating func appendEvent(into out: inout [UInt8], user: Int, atMillis ms: Int64, perEventUser: Bool, eventIds: Bool) {
        counter &+= 1
        let burst = inErrorBurst(atMillis: ms)
        let roll = rng.unit()
        out.append(contentsOf: Array(#"{"event_type":""#.utf8))
        let errorShare = burst ? 0.12 : 0.015
        let type: EventType
        if roll < 0.45 { type = .chatInteraction }
        else if roll < 0.55 { type = .threadLifecycle }
        else if roll < 0.72 { type = .featureUsage }
        else if roll < 0.86 { type = .performanceMetric }
        else if roll < 0.86 + errorShare { type = .errorTracking }
        else if roll < 0.95 { type = .feedbackSubmission }
        else { type = .surveyResponse }
        out.append(contentsOf: Array(type.name.utf8))
        out.append(contentsOf: Array(#"","timestamp":""#.utf8))
        out.append(contentsOf: Array(Timestamp.format(millis: ms).utf8))
        out.append(UInt8(ascii: "\""))
        if eventIds {
            out.append(contentsOf: Array(#","event_id":"e-"#.utf8))
            appendHex(&out, rng.next())
            appendHex(&out, counter)
            out.append(UInt8(ascii: "\""))
        }
        if perEventUser {
            out.append(contentsOf: Array(#","user_id":"u-"#.utf8))
            appendInt(&out, user)
            out.append(contentsOf: Array(#"","session_id":"s-"#.utf8))
            appendInt(&out, user)
            out.append(UInt8(ascii: "-"))
            appendInt(&out, Int(ms / 1_800_000))
            out.append(contentsOf: Array(#"","context":{"org_id":"org-"#.utf8))
            appendInt(&out, user % configuration.orgs)
            out.append(contentsOf: Array(#"","segment":""#.utf8))
            out.append(contentsOf: Array(SyntheticTraffic.segments[(user % configuration.orgs) % 3].utf8))
            out.append(contentsOf: Array(#""}"#.utf8))
        }
        out.append(contentsOf: Array(#","properties":{"#.utf8))
        let thread = user * 16 + Int(rng.next() % 4)
        switch type {
        case .chatInteraction:
            let isResponse = rng.unit() < 0.5
            let model = configuration.models[(user / 7 + Int(rng.next() % 3)) % configuration.models.count]
            out.appendJSONField("thread_id", "t-\(thread)", first: true)
            out.appendJSONField("message_id", "m-\(counter)")
            out.appendJSONField("message_type", isResponse ? "ai_response" : "user_prompt")
            appendNumberField(&out, "prompt_length", Double(20 + Int(rng.next() % 400)))
            out.appendJSONRaw("is_follow_up", rng.unit() < 0.4 ? "true" : "false")
            out.appendJSONField("model_used", model)
            if isResponse {
                // Lognormal: median ~900 ms, heavier for the big models, slower in bursts.
                let median = model.hasSuffix("mini") ? 600.0 : 1000.0
                let rt = median * exp(0.55 * rng.normal()) * (burst ? 2.5 : 1)
                appendNumberField(&out, "response_time_ms", (rt * 10).rounded() / 10)
                appendNumberField(&out, "response_length", Double(200 + Int(rng.next() % 2000)))
                appendNumberField(&out, "tokens_consumed", Double(150 + Int(rng.next() % 1800)))
            }
        case .threadLifecycle:
            let a = rng.unit()
            let action = a < 0.4 ? 0 : a < 0.7 ? 1 : a < 0.9 ? 2 : 3
            out.appendJSONField("thread_id", "t-\(thread)", first: true)
            out.appendJSONField("action", SyntheticTraffic.threadActions[action])
            appendNumberField(&out, "message_count", Double(1 + Int(rng.next() % 20)))
        case .featureUsage:
            out.appendJSONField("feature_name", SyntheticTraffic.features[Int(rng.next() % UInt64(SyntheticTraffic.features.count))], first: true)
            out.appendJSONField("action", "click")
            out.appendJSONRaw("success", rng.unit() < (burst ? 0.8 : 0.96) ? "true" : "false")
            appendNumberField(&out, "duration_ms", (exp(5 + 0.7 * rng.normal()) * 10).rounded() / 10)
        case .performanceMetric:
            out.appendJSONField("metric_type", SyntheticTraffic.metricTypes[Int(rng.next() % 4)], first: true)
            appendNumberField(&out, "duration_ms", (exp(6 + 0.5 * rng.normal()) * 10).rounded() / 10)
            out.appendJSONRaw("success", rng.unit() < (burst ? 0.85 : 0.985) ? "true" : "false")
        case .errorTracking:
            out.appendJSONField("error_type", SyntheticTraffic.errorTypes[Int(rng.next() % 5)], first: true)
            out.appendJSONField("error_message", "upstream request failed")
            out.appendJSONField("user_impact", SyntheticTraffic.impacts[Int(rng.next() % 4)])
        case .feedbackSubmission:
            let nps = rng.unit() < 0.6
            out.appendJSONField("feedback_type", nps ? "nps" : "csat", first: true)
            let s = rng.unit()
            let score = nps ? (s < 0.15 ? Int(rng.next() % 7) : s < 0.4 ? 7 + Int(rng.next() % 2) : 9 + Int(rng.next() % 2))
                : (s < 0.1 ? 1 + Int(rng.next() % 2) : 3 + Int(rng.next() % 3))
            appendNumberField(&out, "score", Double(score))
        case .surveyResponse:
            out.appendJSONField("survey_id", "q4-pulse", first: true)
            out.appendJSONField("question_id", "q\(1 + rng.next() % 5)")
            out.appendJSONField("question_type", SyntheticTraffic.questionTypes[Int(rng.next() % 4)])
            appendNumberField(&out, "response_scale", Double(1 + Int(rng.next() % 10)))
        case .custom:
            break
        }
        out.append(contentsOf: Array("}}".utf8))
    }

    func appendNumberField(_ out: inout [UInt8], _ key: String, _ v: Double) {
        out.appendJSONRaw(key, v == v.rounded() ? String(Int(v)) : String(v))
    }

    func appendInt(_ out: inout [UInt8], _ v: Int) {
        out.append(contentsOf: Array(String(v).utf8))
    }

    func appendHex(_ out: inout [UInt8], _ v: UInt64) {
        let digits = Array("0123456789abcdef".utf8)
        for shift in stride(from: 60, through: 0, by: -4) { out.append(digits[Int((v >> UInt64(shift)) & 0xF)]) }
    }
}
