/// The mergeable aggregates of one series over one closed period (a minute, an hour or a day):
/// counts and sums that add, the largest response time, and a response-time quantile sketch.
/// Every executive KPI is a ratio of these fields (see `KPI`), so any set of rollups can be
/// merged first and evaluated after, which is what makes 30-day and year-ago values cheap.
public struct Rollup: Sendable, Equatable {
    /// Events per `EventType` (index = raw value).
    public var byType: SIMD8<UInt64> = .zero
    /// Chat interactions that carried `response_time_ms`.
    public var responseCount: UInt64 = 0
    /// Sum of response times in microseconds (integer: exact in any order).
    public var responseSumMicros: Int64 = 0
    public var responseMaxMs: Double = 0
    public var tokens: Double = 0
    /// Spend in nano-dollars (integer: exact in any order).
    public var spendNanoUSD: Int64 = 0
    /// `performance_metric` events with `success: false`.
    public var failedPerformance: UInt64 = 0
    /// `feature_usage` events with `success: false`.
    public var failedFeatures: UInt64 = 0
    /// `thread_lifecycle` events with `action: completed` / `abandoned`.
    public var threadsCompleted: UInt64 = 0
    public var threadsAbandoned: UInt64 = 0
    /// `feedback_submission` NPS scores: 9–10, 7–8, 0–6.
    public var npsPromoters: UInt64 = 0
    public var npsPassives: UInt64 = 0
    public var npsDetractors: UInt64 = 0
    /// `feedback_submission` CSAT scores (1–5): all, and those ≥ 4.
    public var csatResponses: UInt64 = 0
    public var csatSatisfied: UInt64 = 0
    /// Response times (ms), 1 % relative accuracy.
    public var responseTimes = QuantileSketch()

    public init() {}

    public var events: UInt64 { byType.wrappedSum() }

    public subscript(type: EventType) -> UInt64 { byType[Int(type.rawValue)] }

    public var isEmpty: Bool { events == 0 }

    public var npsResponses: UInt64 { npsPromoters + npsPassives + npsDetractors }

    /// Spend in USD.
    public var spendUSD: Double { Double(spendNanoUSD) / 1e9 }

    /// Mean response time in ms of the interactions that carried one; nil when none did.
    public var averageResponseMs: Double? {
        responseCount > 0 ? Double(responseSumMicros) / 1000 / Double(responseCount) : nil
    }

    @inline(__always)
    public mutating func add(_ e: RollupDelta) { add(e, weight: 1) }

    /// Adds `e` as `w` identical events (sampled history: one generated event stands for `w`).
    @inline(__always)
    public mutating func add(_ e: RollupDelta, weight w: UInt64) {
        byType[Int(e.type.rawValue)] &+= w
        if let key = e.sketchKey {
            responseCount &+= w
            responseSumMicros &+= e.responseMicros &* Int64(w)
            if e.responseMs > responseMaxMs { responseMaxMs = e.responseMs }
            responseTimes.add(key: key, count: UInt32(truncatingIfNeeded: w))
        }
        if w == 1 { tokens += e.tokens } else { tokens += e.tokens * Double(w) }
        spendNanoUSD &+= e.spendNanoUSD &* Int64(w)
        switch e.outcome {
        case .none: break
        case .failedPerformance: failedPerformance &+= w
        case .failedFeature: failedFeatures &+= w
        case .threadCompleted: threadsCompleted &+= w
        case .threadAbandoned: threadsAbandoned &+= w
        case .npsPromoter: npsPromoters &+= w
        case .npsPassive: npsPassives &+= w
        case .npsDetractor: npsDetractors &+= w
        case .csatSatisfied: csatResponses &+= w; csatSatisfied &+= w
        case .csatUnsatisfied: csatResponses &+= w
        }
    }

    public mutating func merge(_ o: Rollup) {
        byType &+= o.byType
        responseCount &+= o.responseCount
        responseSumMicros &+= o.responseSumMicros
        if o.responseMaxMs > responseMaxMs { responseMaxMs = o.responseMaxMs }
        tokens += o.tokens
        spendNanoUSD &+= o.spendNanoUSD
        failedPerformance &+= o.failedPerformance
        failedFeatures &+= o.failedFeatures
        threadsCompleted &+= o.threadsCompleted
        threadsAbandoned &+= o.threadsAbandoned
        npsPromoters &+= o.npsPromoters
        npsPassives &+= o.npsPassives
        npsDetractors &+= o.npsDetractors
        csatResponses &+= o.csatResponses
        csatSatisfied &+= o.csatSatisfied
        responseTimes.merge(o.responseTimes)
    }
}

/// One event's contribution to a `Rollup`, computed once per event and added to every series
/// the event belongs to.
public struct RollupDelta: Sendable {
    /// The one KPI outcome an event can carry.
    public enum Outcome: UInt8, Sendable {
        case none, failedPerformance, failedFeature, threadCompleted, threadAbandoned
        case npsPromoter, npsPassive, npsDetractor, csatSatisfied, csatUnsatisfied
    }

    public var type: EventType
    public var sketchKey: Int32?
    public var responseMs: Double = 0
    public var responseMicros: Int64 = 0
    public var tokens: Double = 0
    public var spendNanoUSD: Int64 = 0
    public var outcome: Outcome = .none

    public init(type: EventType) { self.type = type }

    /// The delta of a decoded event (spend at `pricePerThousand` USD per 1k tokens).
    public init(_ e: DecodedEvent, pricePerThousand: Double) {
        type = e.type
        switch e.type {
        case .chatInteraction:
            if !e.responseTimeMs.isNaN {
                responseMs = e.responseTimeMs
                responseMicros = Int64((e.responseTimeMs * 1000).rounded())
                sketchKey = QuantileSketch.key(for: e.responseTimeMs)
            }
            if e.tokens > 0 {
                tokens = e.tokens
                spendNanoUSD = BucketState.nanoUSD(tokens: e.tokens, pricePerThousand: pricePerThousand)
            }
        case .performanceMetric:
            if e.success == 0 { outcome = .failedPerformance }
        case .featureUsage:
            if e.success == 0 { outcome = .failedFeature }
        case .threadLifecycle:
            // Indices into thread_lifecycle.action: created, continued, completed, abandoned.
            if e.threadAction == 2 { outcome = .threadCompleted } else if e.threadAction == 3 { outcome = .threadAbandoned }
        case .feedbackSubmission:
            // Indices into feedback_type: nps, csat, feature_request, bug_report.
            guard e.score != .min else { break }
            if e.feedbackType == 0, (0...10).contains(e.score) {
                outcome = e.score >= 9 ? .npsPromoter : e.score >= 7 ? .npsPassive : .npsDetractor
            } else if e.feedbackType == 1, (1...5).contains(e.score) {
                outcome = e.score >= 4 ? .csatSatisfied : .csatUnsatisfied
            }
        default:
            break
        }
    }
}
