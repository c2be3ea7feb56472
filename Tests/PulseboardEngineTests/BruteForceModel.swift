import PulseboardCore

/// The naive definition of every live metric: a scan over all accepted events. The aggregator
/// must agree with it exactly (or within the sketch's stated error for quantiles).
struct BruteForceModel {
    struct Accepted {
        var event: TestEvent
        /// Second the windows place it in (future timestamps clamp to arrival).
        var second: Int64
        var arrivalSecond: Int64
        var late: Bool
        var live: Bool
    }

    var events: [Accepted] = []
    /// The arrival second of the first accepted event: rates divide by the part of a window
    /// after it, and buckets before it are unknown.
    var coveredSince: Int64 = .max
    var seenIds: Set<String> = []
    let lateAfterSeconds: Int64 = 60
    let prices = ["m1": 0.01, "m2": 0.002]
    let defaultPrice = 0.001

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }

    /// Records a batch sent at `arrivalMs`; returns how many should be accepted / duplicates.
    mutating func send(_ batch: [TestEvent], arrivalMs: Int64) -> (accepted: Int, duplicates: Int) {
        var accepted = 0
        var dups = 0
        let arrivalSecond = BruteForceModel.floorDiv(arrivalMs, 1000)
        for e in batch {
            if let id = e.id {
                if seenIds.contains(id) { dups += 1; continue }
                seenIds.insert(id)
            }
            accepted += 1
            coveredSince = min(coveredSince, arrivalSecond)
            let second = min(BruteForceModel.floorDiv(e.timestampMs, 1000), arrivalSecond)
            let live = BruteForceModel.floorDiv(second, 60) > BruteForceModel.floorDiv(arrivalSecond, 60) - 1440
            events.append(Accepted(event: e, second: second, arrivalSecond: arrivalSecond, late: e.timestampMs < arrivalMs - lateAfterSeconds * 1000, live: live))
        }
        return (accepted, dups)
    }

    /// Whether second `s` is inside a window of `w` seconds ending at `now` (as the rings see it).
    static func inWindow(_ s: Int64, window w: Int, now: Int64) -> Bool {
        if w <= 900 { return s > now - Int64(w) && s <= now }
        let minutes = Int64((w + 59) / 60)
        let m = floorDiv(s, 60)
        let nm = floorDiv(now, 60)
        return m > nm - minutes && m <= nm
    }

    func inWindow(window: Int, now: Int64, where keep: (TestEvent) -> Bool = { _ in true }) -> [TestEvent] {
        events.filter { $0.live && BruteForceModel.inWindow($0.second, window: window, now: now) && keep($0.event) }.map(\.event)
    }

    /// A rate over a window that reaches back past the first event counts only the buckets
    /// after the one it fell in (at least the current one): how many, and their width.
    func partialRateSpan(window: Int, now: Int64) -> (buckets: Int64, width: Int64)? {
        guard coveredSince <= now else { return nil }
        let width: Int64 = window <= 900 ? 1 : 60
        let length = window <= 900 ? Int64(window) : Int64((window + 59) / 60)
        let after = BruteForceModel.floorDiv(now, width) - BruteForceModel.floorDiv(coveredSince, width)
        return after < length ? (max(1, after), width) : nil
    }

    func value(_ metric: Metric, agg: String = "", window: Int, now: Int64, where keep: (TestEvent) -> Bool = { _ in true }) -> Double? {
        var list = inWindow(window: window, now: now, where: keep)
        var seconds = Double(window)
        if metric.isRate, let span = partialRateSpan(window: window, now: now) {
            let first = BruteForceModel.floorDiv(now, span.width) - span.buckets + 1
            list = events.filter { $0.live && BruteForceModel.inWindow($0.second, window: window, now: now) && keep($0.event)
                && BruteForceModel.floorDiv($0.second, span.width) >= first }.map(\.event)
            seconds = Double(span.buckets * span.width)
        }
        switch metric {
        case .events: return Double(list.count)
        case .eventsPerSec: return Double(list.count) / seconds
        case .messagesPerSec: return Double(list.filter { $0.type == "chat_interaction" }.count) / seconds
        case .featureUsage: return Double(list.filter { $0.type == "feature_usage" }.count)
        case .activeUsers: return Double(Set(list.map(\.user)).count)
        case .activeSessions: return Double(Set(list.compactMap(\.session)).count)
        case .activeThreads:
            return Double(Set(list.filter { $0.type == "chat_interaction" || $0.type == "thread_lifecycle" }.compactMap(\.thread)).count)
        case .tokens: return list.reduce(0) { $0 + Double($1.tokens ?? 0) }
        case .spendUSD:
            return Double(list.reduce(Int64(0)) { acc, e in acc + BucketState.nanoUSD(tokens: Double(e.tokens ?? 0), pricePerThousand: e.model.flatMap { prices[$0] } ?? defaultPrice) }) / 1e9
        case .responseTimeMs:
            let values = list.compactMap(\.responseTimeMs).sorted()
            guard !values.isEmpty else { return nil }
            switch agg {
            case "avg": return values.reduce(0, +) / Double(values.count)
            case "max": return values.last
            default:
                let q = Double(agg.dropFirst())! / 100
                return values[Int((q * Double(values.count - 1)).rounded(.down))]
            }
        case .errorRate:
            if agg == "failed" {
                let relevant = list.filter { $0.type == "performance_metric" || $0.type == "feature_usage" }
                guard !relevant.isEmpty else { return nil }
                return Double(relevant.filter { $0.success == false }.count) / Double(relevant.count)
            }
            let chats = list.filter { $0.type == "chat_interaction" }.count
            guard chats > 0 else { return nil }
            return Double(list.filter { $0.type == "error_tracking" }.count) / Double(chats)
        case .lateEvents:
            return Double(events.filter { $0.late && BruteForceModel.inWindow($0.arrivalSecond, window: window, now: now) && keep($0.event) }.count)
        }
    }
}
