import DequeModule
import Foundation
import NIOConcurrencyHelpers
import PulseboardCore

/// The alerts of this server: the fire/resolve state of every rule, and the history of past
/// alerts (newest last, capped), kept in `<data-dir>/alerts.ndjson` so both survive restarts: an
/// alert firing at shutdown is still firing after it, and is not fired a second time.
public final class AlertLog: Sendable {
    struct State {
        var tracker = AlertTracker()
        /// Every alert that fired, latest state, oldest first.
        var history: Deque<Alert> = []
    }

    let state = NIOLockedValueBox(State())
    let path: String?
    /// Past alerts kept.
    public let limit: Int

    /// Opens the log at `path` (nil: memory only), reading back what it holds.
    public init(path: String?, limit: Int = 1000) throws {
        self.path = path
        self.limit = max(1, limit)
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else { throw HistoryError("cannot read \(path)") }
        var latest: [String: Alert] = [:]
        var order: [String] = []
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            // A torn last line (a crash mid-write) is skipped.
            guard let v = try? JSONValue.parse(Array(line)), let alert = Alert(json: v) else { continue }
            if latest[alert.id] == nil { order.append(alert.id) }
            latest[alert.id] = alert
        }
        let kept = order.suffix(self.limit).compactMap { latest[$0] }
        state.withLockedValue { s in
            s.history = Deque(kept)
            for a in kept where a.state == .firing { s.tracker.restore(a) }
        }
        // Compact: one line per alert.
        try write(kept.map(\.json), append: false)
    }

    /// Runs one evaluation step on the tracker and records its transitions.
    public func update(_ body: (inout AlertTracker) -> [AlertTracker.Transition]) -> [AlertTracker.Transition] {
        let transitions = state.withLockedValue { s in
            let t = body(&s.tracker)
            for change in t {
                let a = change.alert
                if let i = s.history.lastIndex(where: { $0.id == a.id }) { s.history[i] = a } else { s.history.append(a) }
                while s.history.count > limit { s.history.removeFirst() }
            }
            return t
        }
        if !transitions.isEmpty { try? write(transitions.map(\.alert.json), append: true) }
        return transitions
    }

    /// Alerts firing now, most severe first.
    public var firing: [Alert] { state.withLockedValue { $0.tracker.firing } }

    /// Past and present alerts, newest first, optionally only those in `state`.
    public func recent(limit: Int, state filter: Alert.State? = nil) -> [Alert] {
        state.withLockedValue { s in
            Array(s.history.reversed().lazy.filter { filter == nil || $0.state == filter }.prefix(limit))
        }
    }

    /// What an `alert_list` widget shows: firing alerts first, then the latest resolved ones.
    public func listed(limit: Int) -> [Alert] {
        state.withLockedValue { s in
            let firing = s.tracker.firing
            let resolved = s.history.reversed().lazy.filter { $0.state == .resolved }.prefix(max(0, limit - firing.count))
            return Array((firing + resolved).prefix(limit))
        }
    }

    func write(_ alerts: [JSONValue], append: Bool) throws {
        guard let path else { return }
        var bytes: [UInt8] = []
        for a in alerts {
            bytes += a.jsonBytes
            bytes.append(UInt8(ascii: "\n"))
        }
        if !append || !FileManager.default.fileExists(atPath: path) {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            return
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }
}
