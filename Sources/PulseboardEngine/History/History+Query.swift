import NIOConcurrencyHelpers
import PulseboardCore

extension History {
    /// The local day number of `nowMs` in the configured time zone.
    public func day(ofMillis ms: Int64) -> Int64 {
        state.withLockedValue { $0.calendar.day(ofSecond: History.floorDiv(ms, 1000)) }
    }

    /// The calendar history uses (time zone of day boundaries).
    public var calendar: LocalCalendar { state.withLockedValue { $0.calendar } }

    /// The series of `dimension = value`, if history has seen it.
    public func seriesId(dimension: String, value: String) -> Int32? {
        state.withLockedValue { $0.catalog.id(dimension: dimension, value: value) }
    }

    /// Series history keeps (id 0 is all traffic).
    public var series: [SeriesCatalog.Entry] { state.withLockedValue { $0.catalog.entries } }

    /// Users ever seen and not forgotten.
    public var knownUsers: Int { state.withLockedValue { $0.users.count } }

    /// Days `[first, last]` of `series`: the stored days plus everything not yet flushed.
    public func days(series: Int32, first: Int64, last: Int64) -> DailyHistory {
        let count = Int(max(0, last - first + 1))
        return state.withLockedValue { s in
            var rollups = [Rollup](repeating: Rollup(), count: count)
            let settled = s.days[series]
            if let settled {
                if settled.count < count {
                    for (d, r) in settled where d >= first && d <= last { rollups[Int(d - first)] = r }
                } else {
                    for i in 0..<count { if let r = settled[first + Int64(i)] { rollups[i] = r } }
                }
            }
            func fold(_ p: Pending) {
                for (k, r) in p.minutes where k.series == series {
                    let d = s.calendar.day(ofSecond: k.minute * 60)
                    if d >= first && d <= last { rollups[Int(d - first)].merge(r) }
                }
            }
            fold(s.inFlight)
            for p in s.pending.values { fold(p) }
            var out = DailyHistory(firstDay: first, rollups: rollups, knownUsers: s.users.count)
            if series == SeriesCatalog.all {
                var users = [UserBitset](repeating: UserBitset(), count: count)
                for i in 0..<count { if let u = s.dayUsers[first + Int64(i)] { users[i] = u } }
                func foldUsers(_ p: Pending) {
                    for (d, u) in p.dayUsers where d >= first && d <= last { users[Int(d - first)].formUnion(u) }
                }
                foldUsers(s.inFlight)
                for p in s.pending.values { foldUsers(p) }
                out.users = users
            } else {
                var sketches = [HyperLogLog](repeating: HyperLogLog(), count: count)
                for i in 0..<count {
                    if let h = s.seriesDayUsers[SeriesDay(series: series, day: first + Int64(i))] { sketches[i] = h }
                }
                func foldSketches(_ p: Pending) {
                    for (k, h) in p.seriesDayUsers where k.series == series && k.day >= first && k.day <= last {
                        sketches[Int(k.day - first)].merge(h)
                    }
                }
                foldSketches(s.inFlight)
                for p in s.pending.values { foldSketches(p) }
                out.sketches = sketches
            }
            return out
        }
    }

    /// Stored rollups at `level` (hours for reports), plus what is not yet flushed.
    public func rollups(series: Int32, level: RollupLevel, from: Int64, to: Int64) throws -> [RollupRow] {
        var rows = try store.rollups(series: series, level: level, from: from, to: to)
        let width: Int64 = level == .minute ? 60 : 3600
        var extra: [Int64: Rollup] = [:]
        state.withLockedValue { s in
            func fold(_ p: Pending) {
                for (k, r) in p.minutes where k.series == series {
                    let start = History.floorDiv(k.minute * 60, width) * width
                    if start >= from && start < to { extra[start, default: Rollup()].merge(r) }
                }
            }
            fold(s.inFlight)
            for p in s.pending.values { fold(p) }
        }
        guard !extra.isEmpty else { return rows }
        for i in rows.indices { if let r = extra.removeValue(forKey: rows[i].start) { rows[i].rollup.merge(r) } }
        for (start, r) in extra { rows.append(RollupRow(level: level, series: series, start: start, rollup: r)) }
        rows.sort { $0.start < $1.start }
        return rows
    }

    /// Forgets a user (by id): their directory entry and their bit in every day's active set.
    /// Per-value HyperLogLog sketches cannot forget one user; they age out with retention.
    @discardableResult
    public func forget(userId: String) throws -> Bool {
        let hash = StableHash.hash(userId)
        var changed: [(day: Int64, users: UserBitset)] = []
        let known: Bool = state.withLockedValue { s in
            guard let index = s.users.forget(hash) else { return false }
            for (day, var users) in s.dayUsers where users.contains(index) {
                users.remove(index)
                s.dayUsers[day] = users
                changed.append((day, users))
            }
            for key in s.pending.keys {
                for (day, var users) in s.pending[key]!.dayUsers where users.contains(index) {
                    users.remove(index)
                    s.pending[key]!.dayUsers[day] = users
                }
            }
            s.newUsers.removeAll { $0.hash == hash }
            return true
        }
        if known { try store.forget(userHash: hash, dayUsers: changed) }
        return known
    }

    /// Sizes for `/metrics`.
    public struct Stats: Sendable {
        public var series: Int
        public var knownUsers: Int
        public var storedDays: Int
        public var pendingEvents: Int
        public var watermarkMs: Int64
        public var lateSlots: Int
    }

    public func stats() -> Stats {
        state.withLockedValue { s in
            Stats(
                series: s.catalog.count, knownUsers: s.users.count, storedDays: s.dayUsers.count,
                pendingEvents: s.pending.values.reduce(0) { $0 + $1.events }, watermarkMs: s.watermarkMs, lateSlots: s.lateSlots)
        }
    }
}

extension History {
    /// Whether history holds nothing yet (no days, no pending events): a fresh data directory.
    public var isEmpty: Bool {
        state.withLockedValue { s in s.days.isEmpty && s.pending.isEmpty && s.inFlight.isEmpty }
    }
}
