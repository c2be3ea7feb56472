/// A contiguous run of local days of one series, as KPIs read it: a rollup per day and the
/// day's active users (an exact bitset for all traffic, a HyperLogLog for one property value).
public struct DailyHistory: Sendable {
    public var firstDay: Int64
    public var rollups: [Rollup]
    /// Exact active users per day (all-traffic series).
    public var users: [UserBitset]?
    /// Approximate active users per day (a property value's series).
    public var sketches: [HyperLogLog]?
    /// Users ever seen and not forgotten.
    public var knownUsers: Int

    public init(firstDay: Int64, rollups: [Rollup], users: [UserBitset]? = nil, sketches: [HyperLogLog]? = nil, knownUsers: Int = 0) {
        self.firstDay = firstDay
        self.rollups = rollups
        self.users = users
        self.sketches = sketches
        self.knownUsers = knownUsers
    }

    public var lastDay: Int64 { firstDay + Int64(rollups.count) - 1 }

    func indices(_ first: Int64, _ last: Int64) -> Range<Int> {
        let lo = max(0, Int(first - firstDay))
        let hi = min(rollups.count, Int(last - firstDay) + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// The merged rollup of days `[first, last]`.
    public func rollup(_ first: Int64, _ last: Int64) -> Rollup {
        let range = indices(first, last)
        guard let lo = range.first else { return Rollup() }
        // Start from the first day (shared storage, copied on the first merge): a one-day
        // window, as every trend point is, merges nothing.
        var r = rollups[lo]
        for i in range.dropFirst() { r.merge(rollups[i]) }
        return r
    }

    /// Users active on any day of `[first, last]` (exact series only).
    public func union(_ first: Int64, _ last: Int64) -> UserBitset? {
        guard let users else { return nil }
        var u = UserBitset()
        for i in indices(first, last) { u.formUnion(users[i]) }
        return u
    }

    /// Distinct active users in `[first, last]` and the relative error (nil when exact).
    public func activeUsers(_ first: Int64, _ last: Int64) -> (count: Int, relativeError: Double?)? {
        if let u = union(first, last) { return (u.count, nil) }
        guard let sketches else { return nil }
        var h = HyperLogLog()
        for i in indices(first, last) { h.merge(sketches[i]) }
        return (h.count, 2 * HyperLogLog.standardError)
    }
}
