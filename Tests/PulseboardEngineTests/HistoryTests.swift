import Foundation
import PulseboardCore
import PulseboardSQLite
import Testing
@testable import PulseboardEngine

@Suite struct HistoryTests {
    static func openHistory(_ dir: String) throws -> History {
        var config = HistoryConfiguration()
        config.flushIntervalMs = 10_000
        return try History(
            configuration: config, store: try SQLiteRollupStore(path: dir + "/history.sqlite"), dimensions: DimensionSet(),
            pricing: Pricing(perThousandTokens: ["m1": 0.01], defaultPerThousandTokens: 0.001), logger: testLogger)
    }

    /// What an executive would read: 7-day interactions, spend, DAU and the per-org count.
    static func readings(_ ingestor: Ingestor, _ clock: ManualClock) -> [Double?] {
        let source = LiveFrameSource(ingestor: ingestor, benchmarks: [:], nowMs: clock.nowMillis())
        func v(_ q: KPIQuery) -> Double? { (try? source.kpi(q).get())?.value.value }
        return [
            v(KPIQuery(kpi: .interactions, days: 7)), v(KPIQuery(kpi: .aiSpend, days: 7)), v(KPIQuery(kpi: .dau, days: 1)),
            v(KPIQuery(kpi: .mau, days: 30)), v(KPIQuery(kpi: .interactions, days: 7, filter: .init(key: "org_id", value: "acme"))),
            v(KPIQuery(kpi: .activeUsers, days: 7, filter: .init(key: "org_id", value: "acme"))),
        ]
    }

    static func chats(_ n: Int, at ms: Int64, users: Range<Int>, org: String) -> [UInt8] {
        TestEvent.batch((0..<n).map { i in
            TestEvent(type: "chat_interaction", timestampMs: ms - Int64(i), id: "e-\(ms)-\(i)", user: "u\(users.lowerBound + i % users.count)",
                      org: org, model: "m1", responseTimeMs: 900, tokens: 1000)
        })
    }

    /// 40 chats flushed to the store (with the watermark), then 25 today and 5 from two days
    /// ago (history only, older than the live windows) left pending.
    static func sendFlushedAndPending(_ ingestor: Ingestor, history: History, clock: ManualClock) throws {
        _ = try ingestor.ingest(HistoryTests.chats(40, at: clock.nowMillis(), users: 0..<20, org: "acme"), format: .json)
        clock.advance(byMillis: 30_000)
        #expect(try history.flush(nowMs: clock.nowMillis()) == 40)
        _ = try ingestor.ingest(HistoryTests.chats(25, at: clock.nowMillis(), users: 10..<35, org: "globex"), format: .json)
        _ = try ingestor.ingest(HistoryTests.chats(5, at: clock.nowMillis() - 2 * 86_400_000, users: 100..<105, org: "acme"), format: .json)
    }

    @Test func restartKeepsHistoryAndLiveWindowsAndCountsNothingTwice() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        var history = try HistoryTests.openHistory(dir)
        var ingestor = try makeIngestor(directory: dir + "/journal", clock: clock, history: history)
        try HistoryTests.sendFlushedAndPending(ingestor, history: history, clock: clock)
        let before = HistoryTests.readings(ingestor, clock)
        #expect(before[0] == 70)
        #expect(before[1] == 0.7)     // 70 × 1,000 tokens at 0.01 USD per 1k
        #expect(before[2] == 35)      // u0…u34 today
        #expect(before[3] == 40)
        #expect(before[4] == 45)
        #expect(before[5] == 25)      // HyperLogLog, exact at this size
        let live = try ingestor.query(MetricQuery(metric: .events, windowSeconds: 3600)).value

        // Crash: nothing more is flushed. The restart replays only what the store lacks.
        ingestor.journal.close()
        history = try HistoryTests.openHistory(dir)
        ingestor = try makeIngestor(directory: dir + "/journal", clock: clock, history: history)
        #expect(HistoryTests.readings(ingestor, clock) == before)
        #expect(try ingestor.query(MetricQuery(metric: .events, windowSeconds: 3600)).value == live)

        // A clean stop writes everything; the next start replays nothing into history.
        clock.advance(byMillis: 60_000)
        try history.flush(nowMs: clock.nowMillis(), everything: true)
        ingestor.journal.close()
        history = try HistoryTests.openHistory(dir)
        #expect(history.stats().pendingEvents == 0)
        ingestor = try makeIngestor(directory: dir + "/journal", clock: clock, history: history)
        #expect(history.stats().pendingEvents == 0)
        #expect(HistoryTests.readings(ingestor, clock) == before)
        ingestor.journal.close()
    }

    @Test func importsAreResumableAndCountedOnce() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let history = try HistoryTests.openHistory(dir)
        let now: Int64 = 1_790_000_000_000
        var settings = SyntheticHistory.Configuration()
        settings.days = 10
        settings.users = 300
        settings.endMs = now
        var generator = SyntheticHistory(configuration: settings)
        var lines: [[UInt8]] = []
        for d in 0..<generator.days {
            var chunk: [UInt8] = []
            generator.appendDay(d, into: &chunk)
            lines.append(chunk)
        }
        var importer = HistoryImporter(history: history, dimensions: DimensionSet())
        importer.flushEveryEvents = 1
        var i = 0
        // Stop after four chunks (a crash), then run the same import again.
        let first = try importer.run(importId: "file-a", nowMs: now) {
            guard i < 4 else { return nil }
            defer { i += 1 }
            return lines[i]
        }
        i = 0
        let second = try importer.run(importId: "file-a", nowMs: now) {
            guard i < lines.count else { return nil }
            defer { i += 1 }
            return lines[i]
        }
        #expect(second.skipped == first.lines)
        let total = first.events + second.events
        let today = history.day(ofMillis: now)
        let days = history.days(series: SeriesCatalog.all, first: today - 20, last: today)
        #expect(Int(days.rollup(today - 20, today).events) == total)
        let reopened = try HistoryTests.openHistory(dir)
        #expect(Int(reopened.days(series: SeriesCatalog.all, first: today - 20, last: today).rollup(today - 20, today).events) == total)
        #expect(reopened.importedEvents("file-a") == lines.reduce(0) { $0 + $1.filter { $0 == UInt8(ascii: "\n") }.count })
    }

    /// A plain file is read through its memory mapping; a resumed import starts inside a
    /// chunk when the chunk size changed, and blank lines and a last line without a newline
    /// count like the others.
    @Test func mappedFileImportsResumeInsideAChunk() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let history = try HistoryTests.openHistory(dir)
        let now: Int64 = 1_790_000_000_000
        var text = ""
        for i in 0..<200 {
            text += #"{"event_type":"feature_usage","timestamp":\#(now - 3_600_000 - Int64(i) * 1000),"user_id":"u\#(i % 17)","properties":{"feature_name":"f","action":"click","success":true}}"#
            text += i % 50 == 0 ? "\n\n" : "\n"
        }
        text.removeLast()  // no newline after the last line
        let path = dir + "/events.ndjson"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let physicalLines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        var importer = HistoryImporter(history: history, dimensions: DimensionSet())
        importer.flushEveryEvents = 1
        // The first run stops after three 1 KiB chunks (a crash).
        let reader = try NDJSONFileReader(path: path)
        var chunks = 0
        let first = try importer.run(importId: "file-b", nowMs: now, nextChunk: {
            chunks += 1
            return chunks <= 3 ? try reader.nextChunk(size: 1024) : nil
        })
        #expect(first.events > 0 && first.lines < physicalLines)
        let again = try NDJSONFileReader(path: path)
        let second = try importer.run(importId: "file-b", nowMs: now, nextChunk: { try again.nextChunk(size: 700) })
        #expect(second.skipped == first.lines)
        #expect(second.lines == physicalLines)
        #expect(first.events + second.events == 200)
        let today = history.day(ofMillis: now)
        #expect(history.days(series: SeriesCatalog.all, first: today - 1, last: today).rollup(today - 1, today).events == 200)
        #expect(history.importedEvents("file-b") == physicalLines)
    }

    @Test func forgettingAUserClearsTheirDays() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let history = try HistoryTests.openHistory(dir)
        let ingestor = try makeIngestor(directory: dir + "/journal", clock: clock, history: history)
        _ = try ingestor.ingest(HistoryTests.chats(10, at: clock.nowMillis(), users: 0..<10, org: "acme"), format: .json)
        clock.advance(byMillis: 20_000)
        try history.flush(nowMs: clock.nowMillis())
        #expect(HistoryTests.readings(ingestor, clock)[2] == 10)
        #expect(try history.forget(userId: "u3"))
        #expect(!(try history.forget(userId: "nobody")))
        #expect(HistoryTests.readings(ingestor, clock)[2] == 9)
        #expect(history.knownUsers == 9)
        let reopened = try HistoryTests.openHistory(dir)
        #expect(reopened.knownUsers == 9)
        let today = reopened.day(ofMillis: clock.nowMillis())
        #expect(reopened.days(series: SeriesCatalog.all, first: today, last: today).users?[0].count == 9)
        ingestor.journal.close()
    }
}
