import Foundation

/// Realistic history as NDJSON (one seed-taxonomy event per line, each with its own
/// `user_id`, `session_id`, `timestamp` and `context`): users signing up over time (growth), a
/// weekly rhythm, a churn wave, a switch of the main model, and a two-hour outage. Written by
/// `pulseboard generate`, replayed by `pulseboard replay`, and seeded by `--demo` on an empty
/// data directory so comparisons mean something from the first minute.
public struct SyntheticHistory: Sendable {
    public struct Configuration: Sendable {
        public var days = 90
        public var users = 50_000
        /// Mean events per active user per day.
        public var eventsPerActiveDay = 6.0
        /// The last day generated ends at this instant (epoch ms); usually now.
        public var endMs: Int64 = 0
        public var seed: UInt64 = 7
        public var orgs = 40
        /// Share of the users present on the first day; the rest sign up evenly over the span.
        public var initialShare = 0.45
        public init() {}
    }

    /// Named moments of the story, as day offsets from the first day (for docs and tests).
    public struct Story: Sendable, Equatable {
        public var churnWaveDay: Int
        public var modelSwitchDay: Int
        public var outageDay: Int
    }

    public let configuration: Configuration
    public let story: Story
    let firstDayStartMs: Int64
    var rng: SplitMix64
    var counter: UInt64 = 0
    /// Per user: signup day offset, activity propensity, churn day offset (Int.max = stays).
    let signup: [Int32]
    let propensity: [Float]
    let churnDay: [Int32]

    public init(configuration: Configuration) {
        self.configuration = configuration
        let days = max(1, configuration.days)
        let story = Story(churnWaveDay: days * 55 / 90, modelSwitchDay: days * 60 / 90, outageDay: days * 75 / 90)
        self.story = story
        firstDayStartMs = (configuration.endMs / 86_400_000 - Int64(days) + 1) * 86_400_000
        var r = SplitMix64(seed: configuration.seed)
        var signup: [Int32] = []
        var propensity: [Float] = []
        var churn: [Int32] = []
        signup.reserveCapacity(configuration.users)
        for i in 0..<configuration.users {
            // `initialShare` of users exist at the start; the rest sign up evenly over the span (growth).
            let joined = Double(i) < Double(configuration.users) * configuration.initialShare ? 0 : Int32(r.unit() * Double(days))
            signup.append(joined)
            propensity.append(Float(0.08 + 0.6 * pow(r.unit(), 1.6)))
            // The churn wave: 12 % of early users stop within three days of it.
            let churns = joined < Int32(days * 50 / 90) && r.unit() < 0.12
            churn.append(churns ? Int32(story.churnWaveDay) + Int32(r.next() % 3) : .max)
        }
        self.signup = signup
        self.propensity = propensity
        self.churnDay = churn
        self.rng = SplitMix64(seed: configuration.seed ^ 0xABCD)
    }

    /// Days generated.
    public var days: Int { max(1, configuration.days) }

    /// Whether user `u` is active on day `d` (0-based; `days` is the day after the last one
    /// generated, the live demo's today): signed up, not churned, and a draw under their
    /// propensity (lower at weekends). A hash of (seed, user, day), so the same in every process.
    public func isActive(user u: Int, day d: Int) -> Bool {
        guard Int32(d) >= signup[u], Int32(d) < churnDay[u] else { return false }
        let weekly = SyntheticTraffic.weekly(dayNumber: firstDayStartMs / 86_400_000 + Int64(d))
        let draw = StableHash.fmix(configuration.seed ^ UInt64(u) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(d) &* 0xC2B2_AE3D_27D4_EB4F)
        return Double(draw >> 11) * 0x1.0p-53 < Double(propensity[u]) * weekly
    }

    /// The users active on day `d` (see `isActive`).
    public func activeUsers(onDay d: Int) -> [Int] {
        (0..<configuration.users).filter { isActive(user: $0, day: d) }
    }

    /// The day offset of epoch-ms `ms` (`days` for the day after the last generated day).
    public func day(atMillis ms: Int64) -> Int { Int((ms - firstDayStartMs) / 86_400_000) }

    /// Appends the NDJSON lines of day `d` (0-based) to `out`; returns the events written.
    /// Events of the last day stop at `endMs`.
    @discardableResult
    public mutating func appendDay(_ d: Int, into out: inout [UInt8]) -> Int {
        let dayStart = firstDayStartMs + Int64(d) * 86_400_000
        var n = 0
        for u in 0..<configuration.users where isActive(user: u, day: d) {
            let count = max(1, Int((configuration.eventsPerActiveDay * (0.5 + rng.unit())).rounded()))
            let session = "s-\(u)-\(d)"
            for _ in 0..<count {
                // The live demo's daily curve (peak mid-afternoon UTC), by rejection sampling.
                var hour = rng.unit() * 24
                while rng.unit() > SyntheticTraffic.daily(hour: hour) { hour = rng.unit() * 24 }
                let ms = dayStart + Int64(hour * 3_600_000)
                if ms > configuration.endMs { continue }
                appendEvent(&out, user: u, session: session, day: d, atMillis: ms)
                n += 1
            }
        }
        return n
    }

    mutating func appendEvent(_ out: inout [UInt8], user: Int, session: String, day: Int, atMillis ms: Int64) {
        counter &+= 1
        let hourOfDay = (ms - (firstDayStartMs + Int64(day) * 86_400_000)) / 3_600_000
        let outage = day == story.outageDay && (13..<15).contains(hourOfDay)
        let roll = rng.unit()
        // The live demo's 90 s error bursts every 20 minutes happen in history too.
        let burst = (ms / 1000) % 1200 < 90
        let errorShare = outage ? 0.25 : burst ? 0.12 : 0.015
        let type: EventType
        if roll < 0.46 { type = .chatInteraction }
        else if roll < 0.58 { type = .threadLifecycle }
        else if roll < 0.74 { type = .featureUsage }
        else if roll < 0.86 { type = .performanceMetric }
        else if roll < 0.86 + errorShare { type = .errorTracking }
        else if roll < 0.95 { type = .feedbackSubmission }
        else { type = .surveyResponse }
        let org = user % configuration.orgs
        out.appendUTF8(#"{"event_type":""#)
        out.appendUTF8(type.name)
        out.appendUTF8(#"","timestamp":""#)
        out.appendUTF8(Timestamp.format(millis: ms))
        out.appendUTF8(#"","event_id":"h-"#)
        out.appendUTF8(String(configuration.seed, radix: 16))
        out.appendUTF8("-")
        out.appendUTF8(String(counter, radix: 36))
        out.appendUTF8(#"","user_id":"u-"#)
        out.appendUTF8(String(user))
        out.appendUTF8(#"","session_id":""#)
        out.appendUTF8(session)
        out.appendUTF8(#"","context":{"org_id":"org-"#)
        out.appendUTF8(String(org))
        out.appendUTF8(#"","segment":""#)
        out.appendUTF8(SyntheticTraffic.segments[org % 3])
        out.appendUTF8(#""},"properties":{"#)
        let thread = "t-\(user)-\(day)-\(rng.next() % 3)"
        switch type {
        case .chatInteraction:
            // The main model switches from gpt-4o to claude-sonnet part-way through.
            let models = day < story.modelSwitchDay
                ? ["gpt-4o", "gpt-4o", "gpt-4o-mini", "llama-3-70b"] : ["claude-sonnet", "claude-sonnet", "gpt-4o-mini", "llama-3-70b"]
            let model = models[Int(rng.next() % 4)]
            let median = model.hasSuffix("mini") ? 600.0 : model == "claude-sonnet" ? 850.0 : 1000.0
            let rt = median * exp(0.5 * rng.normal()) * (outage ? 4 : 1)
            out.appendJSONField("thread_id", thread, first: true)
            out.appendJSONField("message_id", "m-\(counter)")
            out.appendJSONField("message_type", "ai_response")
            out.appendJSONRaw("prompt_length", String(20 + Int(rng.next() % 400)))
            out.appendJSONRaw("is_follow_up", rng.unit() < 0.4 ? "true" : "false")
            out.appendJSONField("model_used", model)
            out.appendJSONRaw("response_time_ms", String(Int(rt)))
            out.appendJSONRaw("tokens_consumed", String(150 + Int(rng.next() % 1800)))
        case .threadLifecycle:
            let a = rng.unit()
            // Completion improves slowly over the span; the outage day abandons more.
            let complete = 0.62 + 0.1 * Double(day) / Double(days) - (outage ? 0.3 : 0)
            let action = a < 0.3 ? "created" : a < 0.5 ? "continued" : a < 0.5 + 0.5 * complete ? "completed" : "abandoned"
            out.appendJSONField("thread_id", thread, first: true)
            out.appendJSONField("action", action)
        case .featureUsage:
            out.appendJSONField("feature_name", SyntheticTraffic.features[Int(rng.next() % UInt64(SyntheticTraffic.features.count))], first: true)
            out.appendJSONField("action", "click")
            out.appendJSONRaw("success", rng.unit() < (outage ? 0.7 : 0.95) ? "true" : "false")
        case .performanceMetric:
            out.appendJSONField("metric_type", "api_call", first: true)
            out.appendJSONRaw("duration_ms", String(Int(exp(6 + 0.5 * rng.normal()))))
            out.appendJSONRaw("success", rng.unit() < (outage ? 0.6 : 0.985) ? "true" : "false")
        case .errorTracking:
            out.appendJSONField("error_type", outage ? "TimeoutError" : "NetworkError", first: true)
            out.appendJSONField("error_message", "upstream request failed")
            out.appendJSONField("user_impact", outage ? "critical" : "low")
        case .feedbackSubmission:
            let nps = rng.unit() < 0.6
            out.appendJSONField("feedback_type", nps ? "nps" : "csat", first: true)
            let s = rng.unit()
            // Satisfaction dips after the churn wave and recovers after the model switch.
            let dip = day >= story.churnWaveDay && day < story.modelSwitchDay ? 0.15 : 0
            let score = nps ? (s < 0.15 + dip ? Int(rng.next() % 7) : s < 0.42 + dip ? 7 + Int(rng.next() % 2) : 9 + Int(rng.next() % 2))
                : (s < 0.1 + dip ? 1 + Int(rng.next() % 3) : 4 + Int(rng.next() % 2))
            out.appendJSONRaw("score", String(score))
        case .surveyResponse:
            out.appendJSONField("survey_id", "q4-pulse", first: true)
            out.appendJSONField("question_id", "q\(1 + rng.next() % 5)")
            out.appendJSONField("question_type", "spending")
        case .custom:
            break
        }
        out.appendUTF8("}}\n")
    }
}
