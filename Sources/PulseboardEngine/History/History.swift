import Dispatch
import Logging
import NIOConcurrencyHelpers
import PulseboardCore

/// History that survives restarts and reaches back years: per-minute rollups of every series
/// as events arrive, flushed to a `RollupStore` in slots of arrival time, with the day rollups
/// and the per-day active-user sets held whole in memory for KPIs, trends and comparisons.
///
/// Exactly-once: a flush writes a slot's rollups and the journal watermark in one store
/// transaction; start-up replays only journal records that arrived after the watermark.
/// Queries see the store's state plus everything not yet flushed, so values never lag.
public final class History: Sendable {
    struct MinuteKey: Hashable, PackedKey {
        var series: Int32
        var minute: Int64
        var packed: UInt64 { UInt64(UInt32(bitPattern: series) &+ 1) << 32 | UInt64(UInt32(truncatingIfNeeded: minute)) }
    }

    struct SeriesDay: Hashable, PackedKey {
        var series: Int32
        var day: Int64
        var packed: UInt64 { UInt64(UInt32(bitPattern: series) &+ 1) << 32 | UInt64(UInt32(truncatingIfNeeded: day)) }
    }

    /// Rollups not yet in the store: all-traffic per minute (within the minute retention),
    /// the rest per hour piece (`MinuteKey.minute` is then the piece's first minute).
    struct Pending {
        var minutes = KeyedValues<MinuteKey, Rollup>()
        var dayUsers = KeyedValues<Int64, UserBitset>()
        var seriesDayUsers = KeyedValues<SeriesDay, HyperLogLog>()
        var events = 0

        var isEmpty: Bool { events == 0 }

        mutating func merge(_ o: Pending) {
            if isEmpty {
                self = o
                return
            }
            for (k, r) in o.minutes { minutes[k, default: Rollup()].merge(r) }
            for (d, u) in o.dayUsers { dayUsers[d, default: UserBitset()].formUnion(u) }
            for (k, h) in o.seriesDayUsers { seriesDayUsers[k, default: HyperLogLog()].merge(h) }
            events += o.events
        }
    }

    enum PendingKey: Hashable, Sendable {
        /// Journal events, by arrival slot.
        case slot(Int64)
        /// A backfill import.
        case importing(String)
    }

    struct State {
        var calendar: LocalCalendar
        var catalog: SeriesCatalog
        var users: UserDirectory
        var newUsers: [(hash: UInt64, index: UInt32)] = []
        var newSeries: [(id: Int32, entry: SeriesCatalog.Entry)] = []
        /// Settled (stored) day rollups per series.
        var days: [Int32: [Int64: Rollup]] = [:]
        var dayUsers: [Int64: UserBitset] = [:]
        var seriesDayUsers: [SeriesDay: HyperLogLog] = [:]
        var pending: [PendingKey: Pending] = [:]
        /// Taken out of `pending`, being written.
        var inFlight = Pending()
        var watermarkMs: Int64
        var imports: [String: Int]
        var lateSlots = 0
    }

    public let configuration: HistoryConfiguration
    public let store: any RollupStore
    let dimensionNames: [String]
    let dimensionHashes: [UInt64]
    let pricing: Pricing
    let activeMask: UInt16
    let minuteRetentionSeconds: Int64
    let state: NIOLockedValueBox<State>
    /// One flush at a time, from choosing its rows to settling them; a semaphore, not a lock,
    /// because an import's flush is released by the thread that writes it.
    let flushGate = DispatchSemaphore(value: 1)
    /// `hourOfWeek`'s completed hours per series and window, valid for one hour.
    let hourOfWeekCache = NIOLockedValueBox<[String: (hour: Int64, grid: HourOfWeekGrid)]>([:])
    let logger: Logger

    /// Opens history on `store`, reading back what it holds.
    public init(
        configuration: HistoryConfiguration, store: any RollupStore, dimensions: DimensionSet, pricing: Pricing, logger: Logger
    ) throws {
        self.configuration = configuration
        self.store = store
        self.dimensionNames = dimensions.names
        self.dimensionHashes = dimensions.names.map { StableHash.hash($0) }
        self.pricing = pricing
        self.logger = logger
        var mask: UInt16 = 0
        for t in configuration.activeEventTypes { mask |= 1 << UInt16(t.rawValue) }
        self.activeMask = mask
        self.minuteRetentionSeconds = Int64(configuration.minuteRetentionDays) * 86_400
        guard let calendar = LocalCalendar(identifier: configuration.timeZone) else {
            throw HistoryError("unknown time zone '\(configuration.timeZone)' (history.time_zone takes an IANA name such as UTC or Europe/Paris)")
        }
        let stored = try store.load()
        var s = State(
            calendar: calendar, catalog: SeriesCatalog(cap: configuration.maxValuesPerDimension), users: UserDirectory(),
            watermarkMs: stored.watermarkMs, imports: stored.imports)
        for (id, entry) in stored.series { s.catalog.restore(id: id, entry) }
        for (hash, index) in stored.users { s.users.restore(hash: hash, index: index) }
        s.users.reserve(after: stored.nextUserIndex)
        for row in stored.days { s.days[row.series, default: [:]][row.start] = row.rollup }
        for (day, users) in stored.dayUsers { s.dayUsers[day] = users }
        for (series, day, users) in stored.seriesDayUsers { s.seriesDayUsers[SeriesDay(series: series, day: day)] = users }
        self.state = NIOLockedValueBox(s)
    }

    /// Every journal record that arrived before this (epoch ms) is in the store.
    public var watermarkMs: Int64 { state.withLockedValue { $0.watermarkMs } }

    /// NDJSON lines already imported under `importId` (a backfill resumes after them).
    public func importedEvents(_ importId: String) -> Int { state.withLockedValue { $0.imports[importId] ?? 0 } }

    // MARK: - Recording

    /// Folds the accepted events of a batch in. `arrivalMs` picks the flush slot (journal
    /// events); `importId` sends them to a backfill instead, flushed by `flushImport`.
    /// `weight` counts each event that many times (sampled history; user sets are unaffected).
    public func record(
        _ batch: DecodedBatch, bytes: UnsafeRawBufferPointer, arrivalMs: Int64, importId: String? = nil, weight: UInt64 = 1,
        accepted: (Int) -> Bool
    ) {
        let interval = Int64(configuration.flushIntervalMs)
        let key: PendingKey = importId.map { .importing($0) } ?? .slot(History.floorDiv(arrivalMs, interval))
        state.withLockedValue { s in
            if case .slot(let slot) = key, (slot + 1) * interval <= s.watermarkMs { s.lateSlots += 1 }
            var p = s.pending.removeValue(forKey: key) ?? Pending()
            var memo = RecordMemo()
            for e in batch.events where accepted(Int(e.index)) {
                record(e, batch: batch, bytes: bytes, arrivalMs: arrivalMs, weight: weight, into: &p, state: &s, memo: &memo)
            }
            s.pending[key] = p
        }
    }

    @inline(__always)
    func record(
        _ e: DecodedEvent, batch: DecodedBatch, bytes: UnsafeRawBufferPointer, arrivalMs: Int64, weight: UInt64, into p: inout Pending,
        state s: inout State, memo: inout RecordMemo
    ) {
        let delta = RollupDelta(e, pricePerThousand: pricing.price(modelHash: e.model.hash))
        let second = History.floorDiv(min(e.timestampMs, arrivalMs), 1000)
        let minute = History.floorDiv(second, 60)
        let day = s.calendar.day(ofSecond: second)
        // Only all-traffic minutes are stored (within their retention); everything else is
        // kept per hour (cut at the local day's start in zones with a half-hour offset).
        let hourSecond = History.floorDiv(second, 3600) * 3600
        let hourPiece = s.calendar.day(ofSecond: hourSecond) == day ? hourSecond / 60 : minute
        let rootKey = second >= arrivalMs / 1000 - minuteRetentionSeconds ? minute : hourPiece
        let active = activeMask & (1 << UInt16(e.type.rawValue)) != 0
        p.events += 1
        p.minutes[MinuteKey(series: SeriesCatalog.all, minute: rootKey), default: Rollup()].add(delta, weight: weight)
        let user = e.user.hash
        if user != 0 {
            memo.enter(user: user, day: day)
            if active && !memo.activeCounted {
                let (index, created) = s.users.intern(user)
                if created { s.newUsers.append((user, index)) }
                p.dayUsers[day, default: UserBitset()].insert(index)
                memo.activeCounted = true
            } else if !active && !memo.interned {
                let (index, created) = s.users.intern(user)
                if created { s.newUsers.append((user, index)) }
            }
            memo.interned = true
        }
        let seriesUser = active ? user : 0
        batch.forEachDimension(of: e) { dv in
            add(dv, delta: delta, weight: weight, minute: hourPiece, day: day, user: seriesUser, bytes: bytes, into: &p, state: &s, memo: &memo)
        }
    }

    @inline(__always)
    func add(
        _ dv: DimValue, delta: RollupDelta, weight: UInt64, minute: Int64, day: Int64, user: UInt64, bytes: UnsafeRawBufferPointer,
        into p: inout Pending, state s: inout State, memo: inout RecordMemo
    ) {
        let d = Int(dv.dimension)
        let id: Int32
        if let known = memo.series(dimension: d, valueHash: dv.value.hash) {
            id = known
        } else {
            let (found, created) = s.catalog.id(dimension: dimensionNames[d], dimensionHash: dimensionHashes[d], valueHash: dv.value.hash) {
                JSONReader.string(dv.value, in: bytes)
            }
            if created { s.newSeries.append((found, s.catalog.entries[Int(found)])) }
            memo.remember(dimension: d, valueHash: dv.value.hash, series: found)
            id = found
        }
        p.minutes[MinuteKey(series: id, minute: minute), default: Rollup()].add(delta, weight: weight)
        if user != 0, memo.firstTimeToday(series: id) {
            p.seriesDayUsers[SeriesDay(series: id, day: day), default: HyperLogLog()].add(hash: user)
        }
    }

    // MARK: - Flushing

    /// Writes every slot that closed more than the grace period before `nowMs` (all slots when
    /// `everything`, at shutdown, once ingest has stopped) with the new watermark. Returns the
    /// events written.
    @discardableResult
    public func flush(nowMs: Int64, everything: Bool = false) throws -> Int {
        let interval = Int64(configuration.flushIntervalMs)
        let closed = History.floorDiv(nowMs - Int64(configuration.flushGraceMs), interval) * interval
        return try flush(nowMs: nowMs) { s in
            var keys: [PendingKey] = []
            var oldestKept = Int64.max
            for key in s.pending.keys {
                guard case .slot(let slot) = key else { continue }
                if everything || (slot + 1) * interval <= closed {
                    keys.append(key)
                } else {
                    oldestKept = min(oldestKept, slot * interval)
                }
            }
            // Every record that arrived before the oldest slot still pending (and before the
            // closed horizon) is in the store once this batch is.
            return (keys, everything ? nowMs : min(oldestKept, closed), nil)
        }
    }

    func flush(nowMs: Int64, _ choose: (inout State) -> (keys: [PendingKey], watermark: Int64?, progress: (String, Int)?)) throws -> Int {
        let prepared = prepareFlush(nowMs: nowMs, choose)
        try complete(prepared)
        return prepared.events
    }

    /// A flush taken out of `pending` (and held in `inFlight`, so queries still see it) but not
    /// yet written. It holds the flush gate until `complete` releases it.
    struct PreparedFlush: Sendable {
        var batch: RollupBatch
        var restoreKey: PendingKey?
        var events: Int
    }

    /// Writes what a backfill import has collected in two halves: the rows are taken out now,
    /// in line with the recording, and `write` runs the store write, so recording can go on
    /// while the disk works. The next flush waits until this one is written.
    func flushImport(_ importId: String, events: Int, nowMs: Int64, write: @escaping @Sendable (@escaping @Sendable () throws -> Void) -> Void) {
        let prepared = prepareFlush(nowMs: nowMs) { _ in ([.importing(importId)], nil, (importId, events)) }
        write { [self] in try complete(prepared) }
    }

    /// Waits for the flush gate, moves the chosen pending slots into `inFlight`, then builds
    /// their store rows. Only the move holds the lock: building the rows (merging ten seconds
    /// of minutes into hours and days, unions of day user sets) can take tens of milliseconds
    /// at 100 k events/s, and every ingest request waits for the lock to record its batch.
    func prepareFlush(nowMs: Int64, _ choose: (inout State) -> (keys: [PendingKey], watermark: Int64?, progress: (String, Int)?)) -> PreparedFlush {
        flushGate.wait()
        let (p, settled, watermark, progress, restoreKey) = state.withLockedValue { s in
            let (keys, watermark, progress) = choose(&s)
            var p = Pending()
            for k in keys { if let q = s.pending.removeValue(forKey: k) { p.merge(q) } }
            let restoreKey = keys.min { a, b in
                if case .slot(let x) = a, case .slot(let y) = b { return x < y }
                return false
            }
            s.inFlight = p
            // Copies on write: nothing but `complete` (behind the same gate) changes these.
            let settled = Settled(
                calendar: s.calendar, days: s.days, dayUsers: s.dayUsers, seriesDayUsers: s.seriesDayUsers,
                newSeries: s.newSeries, newUsers: s.newUsers, nextUserIndex: s.users.nextIndex)
            s.newSeries = []
            s.newUsers = []
            return (p, settled, watermark.flatMap { $0 > s.watermarkMs ? $0 : nil }, progress, restoreKey)
        }
        var batch = makeBatch(p, nowMs: nowMs, settled: settled)
        if let watermark { batch.watermarkMs = watermark }
        if let (id, n) = progress { batch.importProgress = (id, n) }
        return PreparedFlush(batch: batch, restoreKey: restoreKey, events: p.events)
    }

    /// What a flush's rows are built on: the settled days they merge into, and the users and
    /// series created since the last flush.
    struct Settled {
        var calendar: LocalCalendar
        var days: [Int32: [Int64: Rollup]]
        var dayUsers: [Int64: UserBitset]
        var seriesDayUsers: [SeriesDay: HyperLogLog]
        var newSeries: [(id: Int32, entry: SeriesCatalog.Entry)]
        var newUsers: [(hash: UInt64, index: UInt32)]
        var nextUserIndex: UInt32
    }

    /// Writes a prepared flush and settles it in memory (or, when the store fails, puts it
    /// back into `pending` for the next flush to retry); releases the flush gate.
    func complete(_ prepared: PreparedFlush) throws {
        defer { flushGate.signal() }
        let batch = prepared.batch
        do {
            try store.apply(batch)
        } catch {
            state.withLockedValue { s in
                // Put everything back (the watermark has not moved); the next flush retries.
                if let k = prepared.restoreKey { s.pending[k, default: Pending()].merge(s.inFlight) }
                s.inFlight = Pending()
                s.newUsers.insert(contentsOf: batch.newUsers, at: 0)
                s.newSeries.insert(contentsOf: batch.newSeries, at: 0)
            }
            throw error
        }
        state.withLockedValue { s in
            for r in batch.replacements where r.level == .day { s.days[r.series, default: [:]][r.start] = r.rollup }
            for (day, users) in batch.dayUsers { s.dayUsers[day] = users }
            for (series, day, users) in batch.seriesDayUsers { s.seriesDayUsers[SeriesDay(series: series, day: day)] = users }
            if let w = batch.watermarkMs { s.watermarkMs = w }
            if let p = batch.importProgress { s.imports[p.id] = p.events }
            s.inFlight = Pending()
        }
    }

    /// The store rows for one flush: minute rows (all traffic) and hour rows added; day rows
    /// and user sets replaced by settled + pending.
    func makeBatch(_ p: Pending, nowMs: Int64, settled s: Settled) -> RollupBatch {
        var batch = RollupBatch()
        var calendar = s.calendar  // it caches the day it last looked up
        var hours: [MinuteKey: Rollup] = [:]
        var days: [SeriesDay: Rollup] = [:]
        let now = History.floorDiv(nowMs, 1000)
        let minuteCutoff = now - Int64(configuration.minuteRetentionDays) * 86_400
        let hourCutoff = now - Int64(configuration.hourRetentionDays) * 86_400
        for (k, r) in p.minutes {
            let second = k.minute * 60
            if k.series == SeriesCatalog.all && second >= minuteCutoff {
                batch.additions.append(RollupRow(level: .minute, series: k.series, start: second, rollup: r))
            }
            if second >= hourCutoff {
                hours[MinuteKey(series: k.series, minute: History.floorDiv(second, 3600) * 60), default: Rollup()].merge(r)
            }
            days[SeriesDay(series: k.series, day: calendar.day(ofSecond: second)), default: Rollup()].merge(r)
        }
        for (k, r) in hours { batch.additions.append(RollupRow(level: .hour, series: k.series, start: k.minute * 60, rollup: r)) }
        for (k, r) in days {
            var merged = s.days[k.series]?[k.day] ?? Rollup()
            merged.merge(r)
            batch.replacements.append(RollupRow(level: .day, series: k.series, start: k.day, rollup: merged))
        }
        for (day, users) in p.dayUsers {
            var merged = s.dayUsers[day] ?? UserBitset()
            merged.formUnion(users)
            batch.dayUsers.append((day, merged))
        }
        for (k, users) in p.seriesDayUsers {
            var merged = s.seriesDayUsers[k] ?? HyperLogLog()
            merged.merge(users)
            batch.seriesDayUsers.append((k.series, k.day, merged))
        }
        batch.newSeries = s.newSeries
        batch.newUsers = s.newUsers
        batch.nextUserIndex = s.nextUserIndex
        return batch
    }

    /// Drops rows past their retention from the store and days from memory.
    public func prune(nowMs: Int64) throws {
        let now = nowMs / 1000
        let today = state.withLockedValue { $0.calendar.day(ofSecond: now) }
        let dayCutoff = today - Int64(configuration.dayRetentionDays)
        try store.prune(
            minuteBefore: now - Int64(configuration.minuteRetentionDays) * 86_400,
            hourBefore: now - Int64(configuration.hourRetentionDays) * 86_400, dayBefore: dayCutoff)
        state.withLockedValue { s in
            for (series, days) in s.days { s.days[series] = days.filter { $0.key >= dayCutoff } }
            s.dayUsers = s.dayUsers.filter { $0.key >= dayCutoff }
            s.seriesDayUsers = s.seriesDayUsers.filter { $0.key.day >= dayCutoff }
        }
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}

/// A history failure (bad configuration, store errors are passed through).
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
