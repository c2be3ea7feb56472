import Foundation
import GRDB
import PulseboardCore
import PulseboardEngine

/// The embedded `RollupStore`: one SQLite database (`<data-dir>/history.sqlite`, WAL mode) with
/// rollup rows keyed by (level, series, start), the series and user directories, per-day user
/// sets and the journal watermark. Each flush is one transaction, so a crash leaves either all
/// of a flush or none of it, and the watermark always matches the rows.
public final class SQLiteRollupStore: RollupStore {
    let pool: DatabasePool
    public let path: String

    public init(path: String) throws {
        self.path = path
        var config = GRDB.Configuration()
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE rollups (level INTEGER NOT NULL, series INTEGER NOT NULL, start INTEGER NOT NULL,
                                      data BLOB NOT NULL, PRIMARY KEY (level, series, start)) WITHOUT ROWID;
                CREATE TABLE series (id INTEGER PRIMARY KEY, dimension TEXT NOT NULL, value TEXT NOT NULL);
                CREATE TABLE users (hash INTEGER PRIMARY KEY, idx INTEGER NOT NULL);
                CREATE TABLE day_users (day INTEGER PRIMARY KEY, data BLOB NOT NULL);
                CREATE TABLE series_day_users (series INTEGER NOT NULL, day INTEGER NOT NULL, data BLOB NOT NULL,
                                               PRIMARY KEY (series, day)) WITHOUT ROWID;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE imports (id TEXT PRIMARY KEY, events INTEGER NOT NULL);
                """)
        }
        try migrator.migrate(pool)
    }

    public func load() throws -> StoredHistory {
        try pool.read { db in
            var out = StoredHistory()
            for row in try Row.fetchAll(db, sql: "SELECT id, dimension, value FROM series ORDER BY id") {
                out.series.append((row["id"], SeriesCatalog.Entry(dimension: row["dimension"], value: row["value"])))
            }
            let users = try Row.fetchCursor(db, sql: "SELECT hash, idx FROM users")
            while let row = try users.next() {
                let hash: Int64 = row["hash"]
                let idx: Int64 = row["idx"]
                out.users.append((UInt64(bitPattern: hash), UInt32(idx)))
            }
            let days = try Row.fetchCursor(db, sql: "SELECT series, start, data FROM rollups WHERE level = ? ORDER BY series, start", arguments: [RollupLevel.day.rawValue])
            while let row = try days.next() {
                let data: Data = row["data"]
                guard let r = RollupCodec.decode(data) else { continue }
                out.days.append(RollupRow(level: .day, series: row["series"], start: row["start"], rollup: r))
            }
            for row in try Row.fetchAll(db, sql: "SELECT day, data FROM day_users ORDER BY day") {
                let data: Data = row["data"]
                if let users = UserBitset(encoded: data) { out.dayUsers.append((row["day"], users)) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT series, day, data FROM series_day_users") {
                let data: Data = row["data"]
                if let h = HyperLogLog(encoded: data) { out.seriesDayUsers.append((row["series"], row["day"], h)) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") {
                let key: String = row["key"]
                let value: Int64 = row["value"]
                if key == "watermark_ms" { out.watermarkMs = value }
                if key == "next_user_index" { out.nextUserIndex = UInt32(value) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, events FROM imports") {
                out.imports[row["id"]] = row["events"]
            }
            return out
        }
    }

    public func apply(_ batch: RollupBatch) throws {
        guard !batch.isEmpty else { return }
        try pool.write { db in
            let select = try db.cachedStatement(sql: "SELECT data FROM rollups WHERE level = ? AND series = ? AND start = ?")
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO rollups (level, series, start, data) VALUES (?, ?, ?, ?)")
            for r in batch.additions {
                var merged = r.rollup
                if let data = try Data.fetchOne(select, arguments: [r.level.rawValue, r.series, r.start]),
                   let old = RollupCodec.decode(data) {
                    merged.merge(old)
                }
                try upsert.execute(arguments: [r.level.rawValue, r.series, r.start, Data(RollupCodec.encode(merged))])
            }
            for r in batch.replacements {
                try upsert.execute(arguments: [r.level.rawValue, r.series, r.start, Data(RollupCodec.encode(r.rollup))])
            }
            let dayUsers = try db.cachedStatement(sql: "INSERT OR REPLACE INTO day_users (day, data) VALUES (?, ?)")
            for d in batch.dayUsers { try dayUsers.execute(arguments: [d.day, Data(d.users.encoded())]) }
            let seriesUsers = try db.cachedStatement(sql: "INSERT OR REPLACE INTO series_day_users (series, day, data) VALUES (?, ?, ?)")
            for d in batch.seriesDayUsers { try seriesUsers.execute(arguments: [d.series, d.day, Data(d.users.encoded())]) }
            let series = try db.cachedStatement(sql: "INSERT OR REPLACE INTO series (id, dimension, value) VALUES (?, ?, ?)")
            for s in batch.newSeries { try series.execute(arguments: [s.id, s.entry.dimension, s.entry.value]) }
            let users = try db.cachedStatement(sql: "INSERT OR REPLACE INTO users (hash, idx) VALUES (?, ?)")
            for u in batch.newUsers { try users.execute(arguments: [Int64(bitPattern: u.hash), Int64(u.index)]) }
            let meta = try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
            if !batch.newUsers.isEmpty { try meta.execute(arguments: ["next_user_index", Int64(batch.nextUserIndex)]) }
            if let w = batch.watermarkMs { try meta.execute(arguments: ["watermark_ms", w]) }
            if let p = batch.importProgress {
                try db.execute(sql: "INSERT OR REPLACE INTO imports (id, events) VALUES (?, ?)", arguments: [p.id, p.events])
            }
        }
    }

    public func rollups(series: Int32, level: RollupLevel, from: Int64, to: Int64) throws -> [RollupRow] {
        try pool.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT start, data FROM rollups WHERE level = ? AND series = ? AND start >= ? AND start < ? ORDER BY start",
                arguments: [level.rawValue, series, from, to])
            var out: [RollupRow] = []
            while let row = try rows.next() {
                let data: Data = row["data"]
                if let r = RollupCodec.decode(data) { out.append(RollupRow(level: level, series: series, start: row["start"], rollup: r)) }
            }
            return out
        }
    }

    public func forget(userHash: UInt64, dayUsers: [(day: Int64, users: UserBitset)]) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM users WHERE hash = ?", arguments: [Int64(bitPattern: userHash)])
            for d in dayUsers {
                try db.execute(sql: "INSERT OR REPLACE INTO day_users (day, data) VALUES (?, ?)", arguments: [d.day, Data(d.users.encoded())])
            }
        }
    }

    public func prune(minuteBefore: Int64, hourBefore: Int64, dayBefore: Int64) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM rollups WHERE level = ? AND start < ?", arguments: [RollupLevel.minute.rawValue, minuteBefore])
            try db.execute(sql: "DELETE FROM rollups WHERE level = ? AND start < ?", arguments: [RollupLevel.hour.rawValue, hourBefore])
            try db.execute(sql: "DELETE FROM rollups WHERE level = ? AND start < ?", arguments: [RollupLevel.day.rawValue, dayBefore])
            try db.execute(sql: "DELETE FROM day_users WHERE day < ?", arguments: [dayBefore])
            try db.execute(sql: "DELETE FROM series_day_users WHERE day < ?", arguments: [dayBefore])
        }
    }
}
