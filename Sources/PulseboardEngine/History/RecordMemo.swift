import PulseboardCore

/// What `History.record` remembers across the events of one batch, to skip repeated lookups:
/// consecutive events mostly come from one user on one day (a browser's batch, a user's run of
/// a backfill file) and hit the same series, whose id, distinct-user sketch and the user's day
/// bit are then already set. Forgetting is always safe: it only costs the lookup again.
struct RecordMemo {
    /// The series of the last value seen per dimension (value hash 0: none).
    var valueHashes = InlineArray<32, UInt64>(repeating: 0)
    var seriesIds = InlineArray<32, Int32>(repeating: 0)
    var user: UInt64 = 0
    var day: Int64 = .min
    /// `user` is interned / in `day`'s active set.
    var interned = false
    var activeCounted = false
    /// Series whose `day` sketch already holds `user`.
    var counted: [Int32] = []

    init() { counted.reserveCapacity(32) }

    /// Starts remembering for `user` on `day` unless it is the same pair as before.
    @inline(__always)
    mutating func enter(user: UInt64, day: Int64) {
        guard user != self.user || day != self.day else { return }
        if user != self.user { interned = false }
        self.user = user
        self.day = day
        activeCounted = false
        counted.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    func series(dimension d: Int, valueHash: UInt64) -> Int32? {
        valueHash != 0 && valueHashes[d] == valueHash ? seriesIds[d] : nil
    }

    @inline(__always)
    mutating func remember(dimension d: Int, valueHash: UInt64, series: Int32) {
        valueHashes[d] = valueHash
        seriesIds[d] = series
    }

    /// True the first time `series` is seen for the current user and day.
    @inline(__always)
    mutating func firstTimeToday(series: Int32) -> Bool {
        if counted.contains(series) { return false }
        counted.append(series)
        return true
    }
}
