/// The live in-memory aggregates: a root `Series` for all events plus one per value of each
/// tracked dimension. A pure state machine: the caller owns the clock, the locking and the I/O.
///
/// ```swift
/// var agg = Aggregator(configuration: .init(), nowMs: now)
/// agg.advance(toMillis: now)
/// batch.events.forEach { agg.record($0, batch: batch, bytes: body, arrivalMs: now) }
/// let r = try agg.query(MetricQuery(metric: .activeUsers, windowSeconds: 300))
/// ```
public struct Aggregator: Sendable {
    /// Aggregation settings.
    public struct Configuration: Sendable, Equatable {
        public var dimensions = DimensionSet()
        /// Distinct values kept per dimension before the rest go to `other`.
        public var maxValuesPerDimension = 1000
        /// An event whose timestamp is this much older than its arrival counts as late.
        public var lateAfterSeconds = 60
        public var pricing = Pricing()

        public init() {}
    }

    /// Where an event landed.
    public enum Placement: Sendable, Equatable {
        /// In the live windows, on time.
        case live
        /// Late, but still inside the live windows: in its own bucket.
        case lateInWindow
        /// Older than every live window: journaled and counted as late only.
        case historyOnly
    }

    /// Longest live window, in seconds.
    public static let maxWindowSeconds = Series.coarseCapacity * 60

    public let configuration: Configuration
    public internal(set) var second: Int64
    public internal(set) var root: Series
    public internal(set) var groups: [DimensionGroups]
    /// The arrival second of the first event these windows took (`Int64.max` before any):
    /// they hold every accepted event since, live or replayed from the journal. Rates count
    /// the part of a window after it and series buckets up to it are unknown rather than zero,
    /// so a server one minute into its first traffic does not report a fifth of the true rate
    /// over five minutes. A replay of the same journal finds the same second.
    public internal(set) var coveredSince: Int64 = .max
    /// Totals since start (for operations metrics).
    public internal(set) var lateInWindowTotal: UInt64 = 0
    public internal(set) var historyOnlyTotal: UInt64 = 0
    /// Keeps `prefetch`'s loads from being optimised away.
    var prefetchSink: UInt64 = 0

    public init(configuration: Configuration = Configuration(), nowMs: Int64) {
        self.configuration = configuration
        let s = DistinctCounter.floorDiv(nowMs, 1000)
        self.second = s
        self.root = Series(second: s)
        self.groups = configuration.dimensions.names.map { _ in DimensionGroups(cap: configuration.maxValuesPerDimension) }
    }

    /// Moves every window to the wall-clock time `ms`. Never moves backwards.
    public mutating func advance(toMillis ms: Int64) {
        let s = DistinctCounter.floorDiv(ms, 1000)
        guard s > second else { return }
        second = s
        root.advance(to: s)
        for d in groups.indices {
            for i in groups[d].series.indices { groups[d].series[i].advance(to: s) }
        }
    }

    /// Folds one decoded event in. `bytes` is the body the event was decoded from.
    @discardableResult
    public mutating func record(
        _ e: DecodedEvent, batch: DecodedBatch, bytes: UnsafeRawBufferPointer, arrivalMs: Int64
    ) -> Placement {
        let isLate = e.timestampMs < arrivalMs - Int64(configuration.lateAfterSeconds) * 1000
        let arrival = min(DistinctCounter.floorDiv(arrivalMs, 1000), second)
        if arrival < coveredSince { coveredSince = arrival }
        // Accepted future events count in the bucket they arrived in.
        let t = min(DistinctCounter.floorDiv(e.timestampMs, 1000), arrival)
        let inLiveWindow = DistinctCounter.floorDiv(t, 60) > DistinctCounter.floorDiv(second, 60) - Int64(Series.coarseCapacity)
        let placement: Placement = !inLiveWindow ? .historyOnly : (isLate ? .lateInWindow : .live)

        let contribution = RollupDelta(e, pricePerThousand: configuration.pricing.price(modelHash: e.model.hash))
        let delta = BucketState(contribution)
        let sketchKey = contribution.sketchKey
        let user = e.user.hash
        let session = e.session.hash
        let thread = e.thread.hash

        if isLate {
            root.addLate(arrivedAt: arrival)
            if inLiveWindow { lateInWindowTotal += 1 } else { historyOnlyTotal += 1 }
        }
        guard inLiveWindow else { return placement }
        root.add(delta, sketchKey: sketchKey, second: t, user: user, session: session, thread: thread)

        batch.forEachDimension(of: e) { dv in
            let g = groups[Int(dv.dimension)].seriesIndex(for: dv.value, bytes: bytes, second: second)
            groups[Int(dv.dimension)].series[g].add(delta, sketchKey: sketchKey, second: t, user: user, session: session, thread: thread)
            if isLate { groups[Int(dv.dimension)].series[g].addLate(arrivedAt: arrival) }
        }
        return placement
    }

    /// Issues the memory loads `record(e, …)` will need (distinct-counter slots of every series
    /// the event touches) without waiting on them. Called for a whole batch before recording it,
    /// the cache misses of random user ids overlap instead of stalling one after another.
    public mutating func prefetch(_ e: DecodedEvent, batch: DecodedBatch) {
        var sink = root.users.touch(e.user.hash) ^ root.sessions.touch(e.session.hash) ^ root.threads.touch(e.thread.hash)
        var i = Int(e.dimStart)
        let end = i + Int(e.dimCount)
        while i < end {
            let dv = batch.dims[i]
            if let g = groups[Int(dv.dimension)].existingIndex(for: dv.value.hash) {
                sink ^= groups[Int(dv.dimension)].series[g].users.touch(e.user.hash)
            }
            i += 1
        }
        prefetchSink ^= sink
    }

    /// Approximate bytes held by all windows.
    public var memoryBytes: Int {
        var n = root.memoryBytes
        for g in groups { for s in g.series { n += s.memoryBytes } }
        return n
    }

    /// Number of series (root plus one per tracked dimension value).
    public var seriesCount: Int { 1 + groups.reduce(0) { $0 + $1.series.count } }
}
