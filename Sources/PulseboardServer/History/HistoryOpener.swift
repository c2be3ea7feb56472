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
