import Foundation
import PulseboardCore
import Testing
@testable import PulseboardEngine

/// Every live aggregate against a brute-force recomputation over thousands of random events:
/// random seeds and window sizes, out-of-order, late, future and very old events, duplicates.
@Suite struct AggregateBruteForceTests {
    static let windows = [1, 7, 30, 60, 300, 420, 900, 901, 3600, 5400, 86_400]
    static let checks: [(Metric, String)] = [
        (.events, ""), (.eventsPerSec, ""), (.messagesPerSec, ""), (.featureUsage, ""), (.activeUsers, ""),
        (.activeSessions, ""), (.activeThreads, ""), (.tokens, ""), (.spendUSD, ""), (.responseTimeMs, "avg"),
        (.responseTimeMs, "max"), (.responseTimeMs, "p50"), (.responseTimeMs, "p95"), (.responseTimeMs, "p99"),
        (.errorRate, "per_interaction"), (.errorRate, "failed"), (.lateEvents, ""),
    ]
    static let types = ["chat_interaction", "chat_interaction", "thread_lifecycle", "feature_usage", "performance_metric", "error_tracking", "my_custom_event"]

    static func randomEvent(_ rng: inout SplitMix64, now: Int64, ids: inout [String], counter: inout Int) -> TestEvent {
        let type = types[Int(rng.next() % UInt64(types.count))]
        // Mostly recent, some out of order by minutes, some hours old, a few older than a day, a few ahead.
        let roll = rng.unit()
        let offset: Int64
        if roll < 0.6 { offset = -Int64(rng.next() % 3000) }
        else if roll < 0.8 { offset = -Int64(rng.next() % 1_200_000) }
        else if roll < 0.93 { offset = -Int64(rng.next() % 90_000_000) }
        else if roll < 0.97 { offset = -86_400_000 - Int64(rng.next() % 3_600_000) }
        else { offset = Int64(rng.next() % 200_000) }
        var id: String? = nil
        if rng.unit() < 0.7 {
            if !ids.isEmpty && rng.unit() < 0.1 {
                id = ids[Int(rng.next() % UInt64(ids.count))]  // a duplicate
            } else {
                counter += 1
                id = "ev-\(counter)"
                ids.append(id!)
            }
        }
        let user = "u\(rng.next() % 60)"
        return TestEvent(
            type: type, timestampMs: now + offset, id: id, user: user,
            session: rng.unit() < 0.8 ? "s\(rng.next() % 40)" : nil,
            org: rng.unit() < 0.9 ? "org\(rng.next() % 4)" : nil,
            model: type == "chat_interaction" && rng.unit() < 0.9 ? ["m1", "m2", "m3"][Int(rng.next() % 3)] : nil,
            thread: "t\(rng.next() % 30)",
            responseTimeMs: type == "chat_interaction" && rng.unit() < 0.85 ? (exp(6.5 + rng.normal() * 0.8) * 10).rounded() / 10 : nil,
            tokens: type == "chat_interaction" && rng.unit() < 0.8 ? Int(rng.next() % 3000) : nil,
            success: rng.unit() < 0.8)
    }

    static func assertClose(_ actual: Double?, _ expected: Double?, relative: Double, _ label: String) {
        switch (actual, expected) {
        case (nil, nil): return
        case let (a?, e?):
            let tolerance = max(abs(e) * relative, 1e-9)
            #expect(abs(a - e) <= tolerance, "\(label): got \(a), brute force \(e)")
        default:
            Issue.record("\(label): got \(String(describing: actual)), brute force \(String(describing: expected))")
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func windowsMatchBruteForce(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let start: Int64 = 1_790_000_000_000 + Int64(rng.next() % 86_400_000)
        let clock = ManualClock(millis: start)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ingestor = try makeIngestor(directory: dir, clock: clock)
        var model = BruteForceModel()
        var ids: [String] = []
        var counter = 0

        for step in 0..<400 {
            // Time moves irregularly: mostly sub-second, sometimes minutes.
            clock.advance(byMillis: rng.unit() < 0.9 ? Int64(rng.next() % 1500) : Int64(rng.next() % 240_000))
            let now = clock.nowMillis()
            let batch = (0..<(1 + Int(rng.next() % 12))).map { _ in AggregateBruteForceTests.randomEvent(&rng, now: now, ids: &ids, counter: &counter) }
            let expected = model.send(batch, arrivalMs: now)
            let outcome = try ingestor.ingest(TestEvent.batch(batch), format: .json)
            #expect(outcome.accepted == expected.accepted, "step \(step)")
            #expect(outcome.duplicates == expected.duplicates, "step \(step)")
            #expect(outcome.rejected.isEmpty, "step \(step): \(outcome.rejected)")

            if step % 50 == 49 { try compareAll(ingestor, model, now: now / 1000, label: "seed \(seed) step \(step)") }
        }
        // Let time pass with no traffic: windows must drain exactly.
        clock.advance(byMillis: 600_000)
        try compareAll(ingestor, model, now: clock.nowMillis() / 1000, label: "seed \(seed) after idle")
    }

    /// A server one minute into its first traffic reports the rate of that minute over a
    /// five-minute window, not a fifth of it, and draws the seconds before as unknown.
    @Test func ratesDivideByTheCoveredPartOfTheWindow() throws {
        let start: Int64 = 1_790_000_000_000
        let clock = ManualClock(millis: start)
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ingestor = try makeIngestor(directory: dir, clock: clock)
        let empty = try ingestor.query(MetricQuery(metric: .messagesPerSec, windowSeconds: 300))
        #expect(empty.value == 0)
        #expect(empty.series?.allSatisfy { $0.value == nil } == true, "no traffic yet: every bucket unknown")

        clock.advance(byMillis: 120_000)  // up two minutes before the first event
        let first = clock.nowMillis() / 1000
        for step in 0..<60 {
            let now = clock.nowMillis()
            let chats = (0..<10).map { i in
                TestEvent(type: "chat_interaction", timestampMs: now, id: "c\(step)-\(i)", user: "u\(i)", model: "m1")
            }
            _ = try ingestor.ingest(TestEvent.batch(chats), format: .json)
            clock.advance(byMillis: 1000)
        }
        // The rate counts the 60 seconds after the first event's (which may have seen only its
        // end): 590 messages, and the current second, empty.
        let rate = try ingestor.query(MetricQuery(metric: .messagesPerSec, windowSeconds: 300))
        #expect(rate.value == 590.0 / 60)
        #expect(rate.sampleSize == 590, "n counts the messages behind the rate")
        // Late events from before the first one say nothing about the rate since.
        let late = (0..<50).map { i in
            TestEvent(type: "chat_interaction", timestampMs: (first - 100) * 1000, id: "late-\(i)", user: "u\(i)", model: "m1")
        }
        _ = try ingestor.ingest(TestEvent.batch(late), format: .json)
        #expect(try ingestor.query(MetricQuery(metric: .messagesPerSec, windowSeconds: 300)).value == 590.0 / 60)
        #expect(try ingestor.query(MetricQuery(metric: .events, windowSeconds: 300)).value == 650, "counts include what is known")
        let events = try ingestor.query(MetricQuery(metric: .eventsPerSec, windowSeconds: 30))
        #expect(events.value == 10 * 29 / 30.0, "a window inside the covered span divides by its length")
        let series = try #require(rate.series)
        #expect(series.count == 300)
        // The first event's second is unknown too: it may have seen only its end.
        #expect(series.filter { $0.value == nil }.map(\.start) == Array((first - 239)...first))
        #expect(series.filter { $0.start > first && $0.start < first + 60 }.allSatisfy { $0.value == 10 })
        #expect(series.last?.value == 0, "the current second, after the traffic stopped")
    }

    func compareAll(_ ingestor: Ingestor, _ model: BruteForceModel, now: Int64, label: String) throws {
        for w in AggregateBruteForceTests.windows {
            for (metric, agg) in AggregateBruteForceTests.checks {
                let q = MetricQuery(metric: metric, aggregation: agg.isEmpty ? nil : agg, windowSeconds: w)
                let got = try ingestor.query(q).value
                let want = model.value(metric, agg: agg, window: w, now: now)
                let relative = agg.hasPrefix("p") ? QuantileSketch.relativeAccuracy : 1e-9
                AggregateBruteForceTests.assertClose(got, want, relative: relative, "\(label) \(metric.rawValue) \(agg) \(w)s")
            }
            #expect(throws: QueryError.self) { try ingestor.query(MetricQuery(metric: .activeSessions, windowSeconds: w, groupBy: "org_id")) }
            // One dimension filter and one group-by per window.
            let unseen = try ingestor.query(MetricQuery(metric: .events, windowSeconds: w, filter: .init(key: "org_id", value: "no-such-org")))
            #expect(unseen.value == 0)
            #expect(unseen.series?.allSatisfy { ($0.value ?? 0) == 0 } ?? true)
            #expect(try ingestor.query(MetricQuery(metric: .activeUsers, windowSeconds: w, filter: .init(key: "org_id", value: "no-such-org"))).value == 0)
            let filtered = try ingestor.query(MetricQuery(metric: .activeUsers, windowSeconds: w, filter: .init(key: "org_id", value: "org1"))).value
            AggregateBruteForceTests.assertClose(filtered, model.value(.activeUsers, window: w, now: now) { $0.org == "org1" }, relative: 1e-9, "\(label) active_users org1 \(w)s")
            let grouped = try ingestor.query(MetricQuery(metric: .events, windowSeconds: w, groupBy: "model_used", top: 10))
            for g in grouped.groups ?? [] {
                AggregateBruteForceTests.assertClose(g.value, model.value(.events, window: w, now: now) { $0.model == g.name }, relative: 1e-9, "\(label) events model=\(g.name) \(w)s")
            }
            let byType = try ingestor.query(MetricQuery(metric: .events, windowSeconds: w, groupBy: "model_used", filter: .init(key: "event_type", value: "chat_interaction")))
            for g in byType.groups ?? [] {
                AggregateBruteForceTests.assertClose(g.value, model.value(.events, window: w, now: now) { $0.model == g.name && $0.type == "chat_interaction" }, relative: 1e-9, "\(label) chats model=\(g.name) \(w)s")
            }
        }
        // Series: each bucket of events over 5m equals the brute-force count of that second.
        let series = try ingestor.query(MetricQuery(metric: .events, windowSeconds: 300)).series ?? []
        #expect(series.count == 300)
        for p in series {
            let want = model.events.filter { $0.live && $0.second == p.start }.count
            #expect(p.value == (p.start <= model.coveredSince ? nil : Double(want)), "\(label) series bucket \(p.start)")
        }
    }
}
