import Dispatch
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
        func index(_ day: Int64) -> Int? { day >= first && day <= last ? Int(day - first) : nil }
        return state.withLockedValue { s in
            let unflushed = [s.inFlight] + Array(s.pending.values)
            var rollups = [Rollup](repeating: Rollup(), count: count)
            for (d, r) in s.days[series] ?? [:] { if let i = index(d) { rollups[i] = r } }
            for p in unflushed {
                for (k, r) in p.minutes where k.series == series {
                    if let i = index(s.calendar.day(ofSecond: k.minute * 60)) { rollups[i].merge(r) }
                }
            }
            var out = DailyHistory(firstDay: first, rollups: rollups, knownUsers: s.users.count)
            if series == SeriesCatalog.all {
                var users = [UserBitset](repeating: UserBitset(), count: count)
                for (d, u) in s.dayUsers { if let i = index(d) { users[i] = u } }
                for p in unflushed {
                    for (d, u) in p.dayUsers { if let i = index(d) { users[i].formUnion(u) } }
                }
                out.users = users
            } else {
                var sketches = (0..<count).map { i in s.seriesDayUsers[SeriesDay(series: series, day: first + Int64(i))] ?? HyperLogLog() }
                for p in unflushed {
                    for (k, h) in p.seriesDayUsers where k.series == series { if let i = index(k.day) { sketches[i].merge(h) } }
                }
                out.sketches = sketches
            }
            return out
        }
    }

    /// Forgets a user (by id): their directory entry and their bit in every day's active set.
    /// Per-value HyperLogLog sketches cannot forget one user; they age out with retention.
    @discardableResult
    public func forget(userId: String) throws -> Bool {
        let hash = StableHash.hash(userId)
        var changed: [(day: Int64, users: UserBitset)] = []
        let known: Bool = state.withLockedValue { s in
            guard let index = s.users.forget(hash) else { return false }
            changed = History.remove(index, from: &s.dayUsers)
            for key in Array(s.pending.keys) { s.pending[key]!.dayUsers.updateEach { _, users in users.remove(index) } }
            s.inFlight.dayUsers.updateEach { _, users in users.remove(index) }
            s.newUsers.removeAll { $0.hash == hash }
            return true
        }
        if known { try store.forget(userHash: hash, dayUsers: changed) }
        return known
    }

    /// Clears `user` in every day set that has it; returns the changed days.
    static func remove(_ user: UInt32, from days: inout [Int64: UserBitset]) -> [(day: Int64, users: UserBitset)] {
        var changed: [(day: Int64, users: UserBitset)] = []
        for (day, var users) in days where users.contains(user) {
            users.remove(user)
            days[day] = users
            changed.append((day, users))
        }
        return changed
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
                pendingEvents: s.pending.values.reduce(s.inFlight.events) { $0 + $1.events }, watermarkMs: s.watermarkMs, lateSlots: s.lateSlots)
        }
    }
}

extension History {
    /// Whether history holds nothing yet (no days, no pending events): a fresh data directory.
    public var isEmpty: Bool {
        state.withLockedValue { s in s.days.isEmpty && s.pending.isEmpty && s.inFlight.isEmpty }
    }
}

extension History {
    /// Stored rows of `series` at `level` with `from <= start < to` (flushed rows only).
    public func storedRollups(series: Int32, level: RollupLevel, from: Int64, to: Int64) throws -> [RollupRow] {
        try store.rollups(series: series, level: level, from: from, to: to)
    }
}

extension History {
    /// Hour rollups of `series` with `from <= start < to` (UTC seconds), stored and not yet
    /// flushed, oldest first. Holds the flush gate so no hour is counted twice or missed.
    public func hourRollups(series: Int32, from: Int64, to: Int64) throws -> [(start: Int64, rollup: Rollup)] {
        flushGate.wait()
        defer { flushGate.signal() }
        var hours: [Int64: Rollup] = [:]
        for row in try store.rollups(series: series, level: .hour, from: from, to: to) { hours[row.start, default: Rollup()].merge(row.rollup) }
        state.withLockedValue { s in
            for p in [s.inFlight] + Array(s.pending.values) {
                for (k, r) in p.minutes where k.series == series {
                    let hour = History.floorDiv(k.minute * 60, 3600) * 3600
                    if hour >= from && hour < to { hours[hour, default: Rollup()].merge(r) }
                }
            }
        }
        return hours.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The series of every value of `dimension` history has seen.
    public func series(of dimension: String) -> [(id: Int32, value: String)] {
        state.withLockedValue { s in
            s.catalog.entries.enumerated().compactMap { i, e in e.dimension == dimension ? (Int32(i), e.value) : nil }
        }
    }
}

extension History {
    /// The dense index of a user id, if history knows the user.
    public func userIndex(of userId: String) -> UInt32? {
        let hash = StableHash.hash(userId)
        return state.withLockedValue { $0.users.index(of: hash) }
    }
}

extension History {
    /// The last `days` × 24 hours of `series` (the current hour included), merged by local hour
    /// of the week, for heatmaps. The completed hours are read from the store once an hour and
    /// cached; each call adds only the current hour.
    public func hourOfWeek(series: Int32, days: Int, nowMs: Int64) throws -> HourOfWeekGrid {
        let hour = History.floorDiv(nowMs, 3_600_000) * 3600
        let from = hour + 3600 - Int64(days) * 86_400
        let calendar = self.calendar
        let key = "\(series)/\(days)"
        var grid: HourOfWeekGrid
        if let cached = hourOfWeekCache.withLockedValue({ $0[key] }), cached.hour == hour {
            grid = cached.grid
        } else {
            grid = HourOfWeekGrid()
            for t in stride(from: from, to: hour + 3600, by: 3600) {
                grid.hours[HourOfWeekGrid.cell(ofSecond: t, offset: calendar.offset(atSecond: t))] += 1
            }
            for row in try hourRollups(series: series, from: from, to: hour) {
                grid.cells[HourOfWeekGrid.cell(ofSecond: row.start, offset: calendar.offset(atSecond: row.start))].merge(row.rollup)
            }
            hourOfWeekCache.withLockedValue { cache in
                cache = cache.filter { $0.value.hour == hour }
                cache[key] = (hour, grid)
            }
        }
        grid.timeZone = configuration.timeZone
        let current = HourOfWeekGrid.cell(ofSecond: hour, offset: calendar.offset(atSecond: hour))
        for row in try hourRollups(series: series, from: hour, to: hour + 3600) { grid.cells[current].merge(row.rollup) }
        return grid
    }
}
