/// Per-user event rate limit over calendar minutes (seed 004: 1,000 events per user per minute).
struct UserRateLimiter: Sendable {
    let limitPerMinute: UInt32
    var counts: [UInt64: (minute: Int64, count: UInt32)] = [:]
    var sweptMinute: Int64 = 0

    init(limitPerMinute: Int) { self.limitPerMinute = UInt32(clamping: limitPerMinute) }

    /// Takes one event from `user`'s allowance for the minute of `nowMs`; false when exhausted.
    @inline(__always)
    mutating func allow(_ user: UInt64, minute: Int64) -> Bool {
        guard limitPerMinute > 0 else { return true }
        if let i = counts.index(forKey: user) {
            var entry = counts.values[i]
            if entry.minute != minute { entry = (minute, 0) }
            guard entry.count < limitPerMinute else { return false }
            entry.count += 1
            counts.values[i] = entry
            return true
        }
        counts[user] = (minute, 1)
        return true
    }

    /// Drops entries of past minutes.
    mutating func sweep(minute: Int64) {
        guard minute > sweptMinute else { return }
        sweptMinute = minute
        counts = counts.filter { $0.value.minute >= minute }
    }
}
