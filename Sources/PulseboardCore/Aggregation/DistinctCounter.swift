/// Exact sliding distinct counts (users, sessions, threads) over any window up to a day.
///
/// Each key keeps only its last-seen second; histograms count keys by last-seen second (last
/// 15 min) and minute (last 24 h). A key is active in a window iff its last-seen time falls in
/// it, so counts are exact, out-of-order events included, and memory is one entry per key seen
/// in the last day. Standard windows keep running totals; others sum histogram slots.
public struct DistinctCounter: Sendable {
    public static let fineCapacity = 900
    public static let coarseCapacity = 1440
    /// Running totals kept for these lengths (seconds on the fine ring, minutes on the coarse one).
    static let fineLengths = [60, 300, 900]
    static let coarseLengths = [60, 1440]

    var lastSeen = IdTable()
    var fine: [Int32]
    var coarse: [Int32]
    var fineTotals: [Int] = [0, 0, 0]
    var coarseTotals: [Int] = [0, 0]
    /// Current second and minute.
    var second: Int64
    var minute: Int64
    var sweepCursor = 0

    public init(second: Int64) {
        self.second = second
        self.minute = DistinctCounter.floorDiv(second, 60)
        self.fine = Array(repeating: 0, count: DistinctCounter.fineCapacity)
        self.coarse = Array(repeating: 0, count: DistinctCounter.coarseCapacity)
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
            for i in fineTotals.indices { fineTotals[i] = 0 }
            second = newSecond
        } else {
            while second < newSecond {
                second += 1
                for (w, len) in DistinctCounter.fineLengths.enumerated() {
                    fineTotals[w] -= Int(fine[DistinctCounter.slot(second - Int64(len), fineCap)])
                }
                fine[DistinctCounter.slot(second, fineCap)] = 0
            }
        }
        let newMinute = DistinctCounter.floorDiv(newSecond, 60)
        let coarseCap = DistinctCounter.coarseCapacity
        if newMinute - minute >= Int64(coarseCap) {
            for i in 0..<coarseCap { coarse[i] = 0 }
            for i in coarseTotals.indices { coarseTotals[i] = 0 }
            minute = newMinute
        } else {
            while minute < newMinute {
                minute += 1
                for (w, len) in DistinctCounter.coarseLengths.enumerated() {
                    coarseTotals[w] -= Int(coarse[DistinctCounter.slot(minute - Int64(len), coarseCap)])
                }
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
        if t > second - Int64(DistinctCounter.fineCapacity) {
            fine[DistinctCounter.slot(t, DistinctCounter.fineCapacity)] &+= d
            for (w, len) in DistinctCounter.fineLengths.enumerated() where t > second - Int64(len) {
                fineTotals[w] += Int(d)
            }
        }
        let m = DistinctCounter.floorDiv(t, 60)
        if m > minute - Int64(DistinctCounter.coarseCapacity) {
            coarse[DistinctCounter.slot(m, DistinctCounter.coarseCapacity)] &+= d
            for (w, len) in DistinctCounter.coarseLengths.enumerated() where m > minute - Int64(len) {
                coarseTotals[w] += Int(d)
            }
        }
    }

    /// Distinct keys active in the last `seconds` (fine, up to 900 s) or the last
    /// `ceil(seconds / 60)` minutes (coarse, up to a day).
    public func count(windowSeconds seconds: Int) -> Int {
        if seconds <= DistinctCounter.fineCapacity {
            if let w = DistinctCounter.fineLengths.firstIndex(of: seconds) { return fineTotals[w] }
            var n = 0
            for t in (second - Int64(seconds) + 1)...second { n += Int(fine[DistinctCounter.slot(t, DistinctCounter.fineCapacity)]) }
            return n
        }
        let minutes = min((seconds + 59) / 60, DistinctCounter.coarseCapacity)
        if let w = DistinctCounter.coarseLengths.firstIndex(of: minutes) { return coarseTotals[w] }
        var n = 0
        for m in (minute - Int64(minutes) + 1)...minute { n += Int(coarse[DistinctCounter.slot(m, DistinctCounter.coarseCapacity)]) }
        return n
    }

    /// Approximate bytes held.
    public var memoryBytes: Int {
        (fine.capacity + coarse.capacity) * 4 + lastSeen.memoryBytes
    }
}
