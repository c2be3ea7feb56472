/// The additive state of one time bucket (or of a whole window): counts and sums that merge by
/// addition and leave a window by subtraction, so sliding totals never re-scan buckets.
public struct BucketState: Sendable, Equatable {
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
    public var responseSum: Double = 0
    public var tokens: Double = 0
    public var spendUSD: Double = 0
    /// Largest response time; kept per bucket only (not subtractable), windows scan buckets for it.
    public var responseMax: Double = 0

    public init() {}

    /// All events.
    @inline(__always) public var events: UInt32 { byType.wrappedSum() }

    public subscript(type: EventType) -> UInt32 { byType[Int(type.rawValue)] }

    @inline(__always)
    public mutating func add(_ o: BucketState) {
        byType &+= o.byType
        responseCount &+= o.responseCount
        failedPerformance &+= o.failedPerformance
        failedFeatures &+= o.failedFeatures
        late &+= o.late
        responseSum += o.responseSum
        tokens += o.tokens
        spendUSD += o.spendUSD
        if o.responseMax > responseMax { responseMax = o.responseMax }
    }

    @inline(__always)
    public mutating func subtract(_ o: BucketState) {
        byType &-= o.byType
        responseCount &-= o.responseCount
        failedPerformance &-= o.failedPerformance
        failedFeatures &-= o.failedFeatures
        late &-= o.late
        responseSum -= o.responseSum
        tokens -= o.tokens
        spendUSD -= o.spendUSD
        if events == 0 && late == 0 {
            // Snap float drift back to zero when the window empties.
            responseSum = 0
            tokens = 0
            spendUSD = 0
        }
    }
}
