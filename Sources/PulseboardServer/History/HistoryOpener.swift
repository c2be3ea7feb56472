import Foundation
import Logging
import PulseboardCore
import PulseboardEngine
import PulseboardSQLite

/// Opens the history of a data directory: the SQLite rollup store at
/// `<data-dir>/history.sqlite` behind a `History` configured from `history.*`.
public enum HistoryOpener {
    public static func open(_ configuration: PulseboardConfiguration, logger: Logger) throws -> History {
        try FileManager.default.createDirectory(atPath: configuration.paths.dataDir, withIntermediateDirectories: true)
        let store = try SQLiteRollupStore(path: configuration.paths.dataDir + "/history.sqlite")
        var settings = configuration.history
        settings.maxValuesPerDimension = configuration.aggregation.maxValuesPerDimension
        return try History(
            configuration: settings, store: store, dimensions: configuration.aggregation.dimensions,
            pricing: configuration.aggregation.pricing, logger: logger)
    }
}

/// An exclusive lock on a data directory (`<data-dir>/LOCK`, flock), so `pulseboard replay`
/// and a server never write the same history at once. Released when the process exits.
public final class DataDirectoryLock: Sendable {
    let fd: Int32

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/LOCK"
        fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HistoryError("cannot open \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(fd)
            throw HistoryError("\(directory) is in use by another pulseboard process (a running server?); stop it, or import through POST /api/history/import")
        }
    }

    deinit { Foundation.close(fd) }
}

/// Industry benchmarks per KPI from `kpi.benchmarks_file`: `{"nps": 32, "csat": 78, …}`.
public enum BenchmarksLoader {
    public static func load(path: String) throws(ConfigurationError) -> [KPI: Double] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "kpi.benchmarks_file", "cannot read \(path)")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(Array(data)) } catch {
            throw ConfigurationError(key: "kpi.benchmarks_file", "\(path) is not valid JSON: \(error.description)")
        }
        guard case .object(let members) = root else {
            throw ConfigurationError(key: "kpi.benchmarks_file", "\(path) must hold an object of KPI name to value")
        }
        var out: [KPI: Double] = [:]
        for (name, value) in members where !name.hasPrefix("$") && name != "source" {
            guard let kpi = KPI(rawValue: name) else {
                throw ConfigurationError(key: "kpi.benchmarks_file", "\(path): unknown KPI '\(name)'; one of " + KPI.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard case .number(let v) = value else {
                throw ConfigurationError(key: "kpi.benchmarks_file", "\(path): \(name) must be a number")
            }
            out[kpi] = v
        }
        return out
    }
}
