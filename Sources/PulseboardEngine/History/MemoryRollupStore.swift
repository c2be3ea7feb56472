import NIOConcurrencyHelpers
import PulseboardCore

/// A `RollupStore` in memory: for tests, and for `serve` without a data directory's history.
/// Keeps what `SQLiteRollupStore` keeps, with the same add/replace semantics.
public final class MemoryRollupStore: RollupStore {
    struct Key: Hashable {
        var level: Int
        var series: Int32
        var start: Int64
    }

    struct State {
        var rows: [Key: Rollup] = [:]
        var stored = StoredHistory()
    }

    let state = NIOLockedValueBox(State())

    public init() {}

    public func load() throws -> StoredHistory {
        state.withLockedValue { s in
            var out = s.stored
            out.days = s.rows.filter { $0.key.level == RollupLevel.day.rawValue }
                .map { RollupRow(level: .day, series: $0.key.series, start: $0.key.start, rollup: $0.value) }
                .sorted { ($0.series, $0.start) < ($1.series, $1.start) }
            return out
        }
    }

    public func apply(_ batch: RollupBatch) throws {
        state.withLockedValue { s in
            for r in batch.additions {
                s.rows[Key(level: r.level.rawValue, series: r.series, start: r.start), default: Rollup()].merge(r.rollup)
            }
            for r in batch.replacements { s.rows[Key(level: r.level.rawValue, series: r.series, start: r.start)] = r.rollup }
            for d in batch.dayUsers {
                s.stored.dayUsers.removeAll { $0.day == d.day }
                s.stored.dayUsers.append(d)
            }
            for d in batch.seriesDayUsers {
                s.stored.seriesDayUsers.removeAll { $0.series == d.series && $0.day == d.day }
                s.stored.seriesDayUsers.append(d)
            }
            s.stored.series.append(contentsOf: batch.newSeries)
            s.stored.users.append(contentsOf: batch.newUsers)
            s.stored.nextUserIndex = max(s.stored.nextUserIndex, batch.nextUserIndex)
            if let w = batch.watermarkMs { s.stored.watermarkMs = w }
            if let p = batch.importProgress { s.stored.imports[p.id] = p.events }
        }
    }

    public func rollups(series: Int32, level: RollupLevel, from: Int64, to: Int64) throws -> [RollupRow] {
        state.withLockedValue { s in
            s.rows.filter { $0.key.level == level.rawValue && $0.key.series == series && $0.key.start >= from && $0.key.start < to }
                .map { RollupRow(level: level, series: series, start: $0.key.start, rollup: $0.value) }
                .sorted { $0.start < $1.start }
        }
    }

    public func forget(userHash: UInt64, dayUsers: [(day: Int64, users: UserBitset)]) throws {
        state.withLockedValue { s in
            s.stored.users.removeAll { $0.hash == userHash }
            for d in dayUsers {
                s.stored.dayUsers.removeAll { $0.day == d.day }
                s.stored.dayUsers.append(d)
            }
        }
    }

    public func prune(minuteBefore: Int64, hourBefore: Int64, dayBefore: Int64) throws {
        state.withLockedValue { s in
            s.rows = s.rows.filter { k, _ in
                switch k.level {
                case RollupLevel.minute.rawValue: k.start >= minuteBefore
                case RollupLevel.hour.rawValue: k.start >= hourBefore
                default: k.start >= dayBefore
                }
            }
            s.stored.dayUsers.removeAll { $0.day < dayBefore }
            s.stored.seriesDayUsers.removeAll { $0.day < dayBefore }
        }
    }
}
