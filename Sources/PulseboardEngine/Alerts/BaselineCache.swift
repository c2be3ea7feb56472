import Logging
import NIOConcurrencyHelpers
import PulseboardCore

/// The anomaly baselines of the current hour of the week, read from history's hour rollups
/// once per hour (the same local hour 1…N weeks back, daylight saving included).
final class BaselineCache: Sendable {
    struct Entry {
        var hourStart: Int64
        var baselines: [AnomalyMetric: AnomalyDetector.Baseline]
    }

    let entry = NIOLockedValueBox<Entry?>(nil)

    func baseline(
        _ metric: AnomalyMetric, atMillis ms: Int64, history: History, settings: AnomalyDetector.Settings, logger: Logger
    ) -> AnomalyDetector.Baseline? {
        let second = ms / 1000
        let hour = second - ((second % 3600) + 3600) % 3600
        if let e = entry.withLockedValue({ $0 }), e.hourStart == hour { return e.baselines[metric] }
        var baselines: [AnomalyMetric: AnomalyDetector.Baseline] = [:]
        do {
            let rows = try BaselineCache.hourRows(atSecond: second, weeks: settings.baselineWeeks, history: history)
            for m in settings.metrics {
                baselines[m] = AnomalyDetector.Baseline(
                    perMinute: rows.map { m.count(in: $0) / 60 }, minWeeks: settings.minWeeks, spreadFloor: settings.spreadFloor)
            }
        } catch {
            logger.error("anomaly baseline read failed", metadata: ["error": "\(error)"])
        }
        entry.withLockedValue { $0 = Entry(hourStart: hour, baselines: baselines) }
        return baselines[metric]
    }

    /// The all-traffic hour rollups of the same local hour of the week, 1…`weeks` weeks before
    /// `second`; weeks without data are left out.
    static func hourRows(atSecond second: Int64, weeks: Int, history: History) throws -> [Rollup] {
        let calendar = history.calendar
        var rows: [Rollup] = []
        for w in 1...max(1, weeks) {
            var t = second - Int64(w) * 604_800
            t += calendar.offset(atSecond: second) - calendar.offset(atSecond: t)
            let start = t - ((t % 3600) + 3600) % 3600
            if let r = try history.storedRollups(series: SeriesCatalog.all, level: .hour, from: start, to: start + 3600).first?.rollup, !r.isEmpty {
                rows.append(r)
            }
        }
        return rows
    }
}
