/// Exact sliding distinct counts (users, sessions, threads) over any window up to a day.
///
/// Each key keeps only its last-seen second; histograms count keys by last-seen second (last
/// 15 min) and minute (last 24 h). A key is active in a window iff its last-seen time falls in
/// it, so counts are exact, out-of-order events included, and memory is one entry per key seen
/// in the last day. Standard windows keep running totals; others sum histogram slots.
public struct DistinctCounter: Sendable {
    public static let fineCapacity = 900
    public static let coarseCapacity = 1440

    var lastSeen = IdTable()
    var fine: [Int32]
    var coarse: [Int32]
    /// Running totals: last 60, 300 and 900 seconds; last 60 and 1440 minutes.
    var total1m = 0
    var total5m = 0
    var total15m = 0
    var total1h = 0
    var total24h = 0
    /// Current second and minute.
    var second: Int64
    var minute: Int64
    var sweepCursor = 0

    /// A counter at `second`; an untracked one holds no memory and ignores everything.
    public init(second: Int64, tracked: Bool = true) {
        self.second = second
        self.minute = DistinctCounter.floorDiv(second, 60)
        self.fine = tracked ? Array(repeating: 0, count: DistinctCounter.fineCapacity) : []
        self.coarse = tracked ? Array(repeating: 0, count: DistinctCounter.coarseCapacity) : []
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    @inline(__always) static func slot(_ v: Int64, _ cap: Int) -> Int {
        let m = v % Int64(cap)
        return Int(m < 0 ? m + Int64(cap) : m)
    }

    /// Keys currently tracked (active in the last 24 h, until the next sweep).
    public var trackedKeys: Int { lastSeen.count }

    /// Moves the clock to `second`.
    public mutating func advance(to newSecond: Int64) {
        guard newSecond > second else { return }
        let elapsed = Int(min(newSecond - second, 600))
        let fineCap = DistinctCounter.fineCapacity
        if newSecond - second >= Int64(fineCap) {
            for i in 0..<fineCap { fine[i] = 0 }
            (total1m, total5m, total15m) = (0, 0, 0)
            second = newSecond
        } else {
            while second < newSecond {
                second += 1
                total1m -= Int(fine[DistinctCounter.slot(second - 60, fineCap)])
                total5m -= Int(fine[DistinctCounter.slot(second - 300, fineCap)])
                total15m -= Int(fine[DistinctCounter.slot(second - 900, fineCap)])
                fine[DistinctCounter.slot(second, fineCap)] = 0
            }
        }
        let newMinute = DistinctCounter.floorDiv(newSecond, 60)
        let coarseCap = DistinctCounter.coarseCapacity
        if newMinute - minute >= Int64(coarseCap) {
            for i in 0..<coarseCap { coarse[i] = 0 }
            (total1h, total24h) = (0, 0)
            minute = newMinute
        } else {
            while minute < newMinute {
                minute += 1
                total1h -= Int(coarse[DistinctCounter.slot(minute - 60, coarseCap)])
                total24h -= Int(coarse[DistinctCounter.slot(minute - 1440, coarseCap)])
                coarse[DistinctCounter.slot(minute, coarseCap)] = 0
            }
        }
        sweep(seconds: elapsed)
    }

    /// Forgets keys last seen more than a day ago, a slice of the table per second (a full pass
    /// every 10 minutes), so no single call pauses ingest.
    mutating func sweep(seconds: Int) {
        guard lastSeen.count > 0 else { return }
        let horizon = (minute - Int64(DistinctCounter.coarseCapacity) + 1) * 60
        let slots = max(32, lastSeen.capacity / 600) * seconds
        sweepCursor = lastSeen.sweep(from: sweepCursor, count: slots) { $0 < horizon }
    }

    /// Prefetches `key`'s slot (see `IdTable.touch`).
    @inline(__always) func touch(_ key: UInt64) -> UInt64 { lastSeen.touch(key) }

    /// Records `key` active at second `t` (`t` ≤ the current second, within the last day).
    @inline(__always)
    public mutating func record(_ key: UInt64, at t: Int64) {
        let (slot, inserted) = lastSeen.slot(for: key, initial: t)
        if !inserted {
            let old = lastSeen[slot: slot]
            if old >= t { return }
            lastSeen[slot: slot] = t
            move(old, by: -1)
        }
        move(t, by: 1)
    }

    @inline(__always)
    mutating func move(_ t: Int64, by d: Int32) {
        let delta = Int(d)
        if t > second - 900 {
            fine[DistinctCounter.slot(t, DistinctCounter.fineCapacity)] &+= d
            total15m &+= delta
            if t > second - 300 { total5m &+= delta }
            if t > second - 60 { total1m &+= delta }
        }
        let m = DistinctCounter.floorDiv(t, 60)
        if m > minute - 1440 {
            coarse[DistinctCounter.slot(m, DistinctCounter.coarseCapacity)] &+= d
            total24h &+= delta
            if m > minute - 60 { total1h &+= delta }
        }
    }

    /// Distinct keys active in the last `seconds` (fine, up to 900 s) or the last
    /// `ceil(seconds / 60)` minutes (coarse, up to a day).
    public func count(windowSeconds seconds: Int) -> Int {
        if seconds <= DistinctCounter.fineCapacity {
            switch seconds {
            case 60: return total1m
            case 300: return total5m
            case 900: return total15m
            default: break
            }
            var n = 0
            for t in (second - Int64(seconds) + 1)...second { n += Int(fine[DistinctCounter.slot(t, DistinctCounter.fineCapacity)]) }
            return n
        }
        let minutes = min((seconds + 59) / 60, DistinctCounter.coarseCapacity)
        if minutes == 60 { return total1h }
        if minutes == 1440 { return total24h }
        var n = 0
        for m in (minute - Int64(minutes) + 1)...minute { n += Int(coarse[DistinctCounter.slot(m, DistinctCounter.coarseCapacity)]) }
        return n
    }

    /// Approximate bytes held.
    public var memoryBytes: Int {
        (fine.capacity + coarse.capacity) * 4 + lastSeen.memoryBytes
    }
}
