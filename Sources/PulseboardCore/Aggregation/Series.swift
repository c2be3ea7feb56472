/// Everything kept for one slice of the traffic (all events, or one dimension value): 1 s
/// buckets for the last 15 minutes, 1 min buckets for the last 24 hours, and exact distinct
/// users. The all-traffic series also counts distinct sessions and chat threads (per-value
/// series skip them: each distinct counter costs a random memory access per event).
public struct Series: Sendable {
    /// Fine ring: 900 × 1 s. Standard windows 1m, 5m, 15m.
    public static let fineCapacity = 900
    /// Coarse ring: 1440 × 1 min. Standard windows 1h, 24h.
    public static let coarseCapacity = 1440

    public var fine: BucketRing
    public var coarse: BucketRing
    public var users: DistinctCounter
    public var sessions: DistinctCounter
    public var threads: DistinctCounter
    /// Whether `sessions` and `threads` are maintained.
    public let tracksSessionsAndThreads: Bool

    public init(second: Int64, tracksSessionsAndThreads: Bool = true) {
        self.tracksSessionsAndThreads = tracksSessionsAndThreads
        fine = BucketRing(width: 1, capacity: Series.fineCapacity, standardLengths: [60, 300, 900], currentBucket: second)
        coarse = BucketRing(
            width: 60, capacity: Series.coarseCapacity, standardLengths: [60, 1440],
            currentBucket: DistinctCounter.floorDiv(second, 60))
        users = DistinctCounter(second: second)
        sessions = DistinctCounter(second: second, tracked: tracksSessionsAndThreads)
        threads = DistinctCounter(second: second, tracked: tracksSessionsAndThreads)
    }

    public mutating func advance(to second: Int64) {
        fine.advance(to: second)
        coarse.advance(to: DistinctCounter.floorDiv(second, 60))
        users.advance(to: second)
        guard tracksSessionsAndThreads else { return }
        sessions.advance(to: second)
        threads.advance(to: second)
    }

    /// Folds one event's contribution in. `second` must be within the last day and not ahead of
    /// the clock.
    @inline(__always)
    public mutating func add(_ delta: BucketState, sketchKey: Int32?, second: Int64, user: UInt64, session: UInt64, thread: UInt64) {
        if fine.holds(second) { fine.add(delta, sketchKey: sketchKey, to: second) }
        coarse.add(delta, sketchKey: sketchKey, to: DistinctCounter.floorDiv(second, 60))
        users.record(user, at: second)
        guard tracksSessionsAndThreads else { return }
        if session != 0 { sessions.record(session, at: second) }
        if thread != 0 { threads.record(thread, at: second) }
    }

    /// Counts a late event in the bucket of its arrival second.
    public mutating func addLate(arrivedAt second: Int64) {
        var d = BucketState()
        d.late = 1
        if fine.holds(second) { fine.add(d, sketchKey: nil, to: second) }
        let minute = DistinctCounter.floorDiv(second, 60)
        if coarse.holds(minute) { coarse.add(d, sketchKey: nil, to: minute) }
    }

    /// The ring a window of `seconds` reads from, and its length in buckets.
    public func ring(forWindow seconds: Int) -> (ring: BucketRing, length: Int) {
        if seconds <= Series.fineCapacity { return (fine, seconds) }
        return (coarse, min((seconds + 59) / 60, Series.coarseCapacity))
    }

    public var memoryBytes: Int {
        fine.memoryBytes + coarse.memoryBytes + users.memoryBytes + sessions.memoryBytes + threads.memoryBytes
    }
}
