/// The additive state of one time bucket (or of a whole window): counts and sums that merge by
/// addition and leave a window by subtraction, so sliding totals never re-scan buckets.
public struct BucketState: Sendable, Equatable, BitwiseCopyable {
    /// Events per `EventType` (index = raw value).
    public var byType: SIMD8<UInt32> = .zero
    /// Chat interactions that carried `response_time_ms`.
    public var responseCount: UInt32 = 0
    /// `performance_metric` events with `success: false`.
    public var failedPerformance: UInt32 = 0
    /// `feature_usage` events with `success: false`.
    public var failedFeatures: UInt32 = 0
    /// Events that arrived late (counted at arrival time).
    public var late: UInt32 = 0
    /// Sum of response times in microseconds: integer, so sums are exact in any order.
    public var responseSumMicros: Int64 = 0
    public var tokens: Double = 0
    /// Spend in nano-dollars (1e-9 USD): integer, so sums are exact in any order.
    public var spendNanoUSD: Int64 = 0
    /// Largest response time; kept per bucket only (not subtractable), windows scan buckets for it.
    public var responseMax: Double = 0

    public init() {}

    /// One event's contribution (the same mapping history uses, so live and stored agree).
    @inline(__always)
    public init(_ d: RollupDelta) {
        byType[Int(d.type.rawValue)] = 1
        if d.sketchKey != nil {
            responseCount = 1
            responseSumMicros = d.responseMicros
            responseMax = d.responseMs
        }
        tokens = d.tokens
        spendNanoUSD = d.spendNanoUSD
        if d.outcome == .failedPerformance { failedPerformance = 1 }
        if d.outcome == .failedFeature { failedFeatures = 1 }
    }

    /// All events.
    @inline(__always) public var events: UInt32 { byType.wrappedSum() }

    public subscript(type: EventType) -> UInt32 { byType[Int(type.rawValue)] }

    /// Sum of response times in milliseconds.
    public var responseSumMs: Double { Double(responseSumMicros) / 1000 }
    /// Spend in USD.
    public var spendUSD: Double { Double(spendNanoUSD) / 1e9 }

    /// Nano-dollars spent on `tokens` at `pricePerThousand` USD (rounded once per event).
    @inline(__always)
    public static func nanoUSD(tokens: Double, pricePerThousand: Double) -> Int64 {
        Int64((tokens * pricePerThousand * 1e6).rounded())
    }

    @inline(__always)
    public mutating func add(_ o: BucketState) {
        byType &+= o.byType
        responseCount &+= o.responseCount
        failedPerformance &+= o.failedPerformance
        failedFeatures &+= o.failedFeatures
        late &+= o.late
        responseSumMicros &+= o.responseSumMicros
        tokens += o.tokens
        spendNanoUSD &+= o.spendNanoUSD
        if o.responseMax > responseMax { responseMax = o.responseMax }
    }

    @inline(__always)
    public mutating func subtract(_ o: BucketState) {
        byType &-= o.byType
        responseCount &-= o.responseCount
        failedPerformance &-= o.failedPerformance
        failedFeatures &-= o.failedFeatures
        late &-= o.late
        responseSumMicros &-= o.responseSumMicros
        tokens -= o.tokens
        spendNanoUSD &-= o.spendNanoUSD
    }
}
