import PulseboardCore

/// Rollup granularity in the store.
public enum RollupLevel: Int, Sendable, CaseIterable {
    /// A UTC minute (all-traffic series only); `start` is epoch seconds.
    case minute = 0
    /// A UTC hour; `start` is epoch seconds.
    case hour = 1
    /// A local day; `start` is the local day number (`LocalCalendar`).
    case day = 2
}

/// One stored rollup row.
public struct RollupRow: Sendable, Equatable {
    public var level: RollupLevel
    public var series: Int32
    public var start: Int64
    public var rollup: Rollup

    public init(level: RollupLevel, series: Int32, start: Int64, rollup: Rollup) {
        self.level = level
        self.series = series
        self.start = start
        self.rollup = rollup
    }
}

/// What one flush writes, atomically: rollups to add (minutes, hours), values to replace
/// (days, user sets, which `History` holds whole in memory), new series and users, and the
/// journal watermark or import progress that says which events these rows include.
public struct RollupBatch: Sendable {
    /// Added to what the store holds for the same key.
    public var additions: [RollupRow] = []
    /// Replace what the store holds for the same key.
    public var replacements: [RollupRow] = []
    public var dayUsers: [(day: Int64, users: UserBitset)] = []
    public var seriesDayUsers: [(series: Int32, day: Int64, users: HyperLogLog)] = []
    public var newSeries: [(id: Int32, entry: SeriesCatalog.Entry)] = []
    public var newUsers: [(hash: UInt64, index: UInt32)] = []
    public var nextUserIndex: UInt32 = 0
    /// Every journal record that arrived before this (epoch ms) is now in the store.
    public var watermarkMs: Int64?
    /// Import progress: events of `importId` now in the store.
    public var importProgress: (id: String, events: Int)?

    public init() {}

    public var isEmpty: Bool {
        additions.isEmpty && replacements.isEmpty && dayUsers.isEmpty && seriesDayUsers.isEmpty
            && newSeries.isEmpty && newUsers.isEmpty && watermarkMs == nil && importProgress == nil
    }
}

/// Everything `History` reads back at start-up.
public struct StoredHistory: Sendable {
    public var series: [(id: Int32, entry: SeriesCatalog.Entry)] = []
    public var users: [(hash: UInt64, index: UInt32)] = []
    public var nextUserIndex: UInt32 = 0
    public var days: [RollupRow] = []
    public var dayUsers: [(day: Int64, users: UserBitset)] = []
    public var seriesDayUsers: [(series: Int32, day: Int64, users: HyperLogLog)] = []
    public var watermarkMs: Int64 = 0
    public var imports: [String: Int] = [:]

    public init() {}
}

/// Where closed rollups live. SQLite (`SQLiteRollupStore`) by default; the protocol lets a
/// bigger engine sit behind history later. Implementations are called from one flusher at a
/// time; reads may come from any thread.
public protocol RollupStore: Sendable {
    /// Reads what start-up needs: series, users, day rollups and user sets, watermark, imports.
    func load() throws -> StoredHistory
    /// Applies a flush in one transaction.
    func apply(_ batch: RollupBatch) throws
    /// Rollups of `series` at `level` with `from <= start < to`, ordered by start.
    func rollups(series: Int32, level: RollupLevel, from: Int64, to: Int64) throws -> [RollupRow]
    /// Removes a forgotten user: its directory entry, and its bit in the given day sets.
    func forget(userHash: UInt64, dayUsers: [(day: Int64, users: UserBitset)]) throws
    /// Deletes rows older than each level's cut-off (`start < cutoff`) and user sets before `dayCutoff`.
    func prune(minuteBefore: Int64, hourBefore: Int64, dayBefore: Int64) throws
}
