import PulseboardCore

/// Per-user event rate limit over calendar minutes (seed 004: 1,000 events per user per minute).
/// Each user's entry packs the minute (high 32 bits) and the count (low 32 bits).
struct UserRateLimiter: Sendable {
    let limitPerMinute: UInt32
    var counts = IdTable(capacity: 1024)
    var sweepCursor = 0

    init(limitPerMinute: Int) { self.limitPerMinute = UInt32(clamping: limitPerMinute) }

    /// Prefetches `user`'s slot (see `IdTable.touch`).
    @inline(__always) func touch(_ user: UInt64) -> UInt64 { counts.touch(user) }

    /// Takes one event from `user`'s allowance for the minute of `nowMs`; false when exhausted.
    @inline(__always)
    mutating func allow(_ user: UInt64, minute: Int64) -> Bool {
        guard limitPerMinute > 0 else { return true }
        let (slot, _) = counts.slot(for: user, initial: minute << 32)
        var entry = counts[slot: slot]
        if entry >> 32 != minute { entry = minute << 32 }
        guard UInt32(truncatingIfNeeded: entry) < limitPerMinute else { return false }
        counts[slot: slot] = entry + 1
        return true
    }

    /// Drops entries of past minutes, a slice of the table per call (called once a second: a
    /// full pass a minute), so no call pauses ingest.
    mutating func sweep(minute: Int64) {
        guard counts.count > 0 else { return }
        sweepCursor = counts.sweep(from: sweepCursor, count: max(64, counts.capacity / 60)) { $0 >> 32 < minute }
    }
}

extension UserRateLimiter {
    func write(to w: inout SnapshotWriter) {
        counts.write(to: &w)
        w.write(Int64(sweepCursor))
    }

    mutating func read(_ r: inout SnapshotReader) throws(SnapshotError) {
        counts = try IdTable(snapshot: &r)
        sweepCursor = Int(try r.read(Int64.self))
    }
}
