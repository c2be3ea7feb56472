import Foundation
import PulseboardCore
import Testing
@testable import PulseboardEngine

@Suite struct JournalTests {
    static let queries: [MetricQuery] = {
        var list: [MetricQuery] = []
        for w in [60, 300, 900, 3600, 86_400] {
            list.append(MetricQuery(metric: .events, windowSeconds: w))
            list.append(MetricQuery(metric: .activeUsers, windowSeconds: w))
            list.append(MetricQuery(metric: .activeSessions, windowSeconds: w))
            list.append(MetricQuery(metric: .responseTimeMs, aggregation: "p95", windowSeconds: w))
            list.append(MetricQuery(metric: .spendUSD, windowSeconds: w))
            list.append(MetricQuery(metric: .lateEvents, windowSeconds: w))
            list.append(MetricQuery(metric: .events, windowSeconds: w, groupBy: "org_id"))
        }
        return list
    }()

    /// Sends random traffic (with duplicates and late events) through an ingestor.
    static func traffic(_ ingestor: Ingestor, clock: ManualClock, seed: UInt64, steps: Int = 200) throws -> Int {
        var rng = SplitMix64(seed: seed)
        var ids: [String] = []
        var counter = 0
        var accepted = 0
        for _ in 0..<steps {
            clock.advance(byMillis: Int64(rng.next() % 4000))
            let batch = (0..<(1 + Int(rng.next() % 8))).map { _ in
                AggregateBruteForceTests.randomEvent(&rng, now: clock.nowMillis(), ids: &ids, counter: &counter)
            }
            accepted += try ingestor.ingest(TestEvent.batch(batch), format: .json).accepted
        }
        return accepted
    }

    @Test func replayAfterRestartGivesIdenticalResults() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let first = try makeIngestor(directory: dir, clock: clock)
        let accepted = try JournalTests.traffic(first, clock: clock, seed: 7)
        // NDJSON goes through the journal too.
        let ndjson = Array("{\"event_type\":\"feature_usage\",\"user_id\":\"nd1\",\"properties\":{\"feature_name\":\"x\",\"action\":\"a\",\"success\":true}}\n\n{\"event_type\":\"oops\"}\n".utf8)
        let nd = try first.ingest(ndjson, format: .ndjson)
        #expect(nd.accepted == 1)
        let before = try JournalTests.queries.map { try first.query($0) }
        first.journal.close()

        let second = try makeIngestor(directory: dir, clock: clock)
        let after = try JournalTests.queries.map { try second.query($0) }
        #expect(accepted > 500)
        for (b, a) in zip(before, after) {
            #expect(b.value == a.value, "\(b.query.metric.rawValue) \(b.query.windowSeconds)s")
            #expect(b.series == a.series, "\(b.query.metric.rawValue) \(b.query.windowSeconds)s series")
            #expect(b.groups == a.groups, "\(b.query.metric.rawValue) \(b.query.windowSeconds)s groups")
        }
        // Duplicates are remembered across the restart.
        let retry = try second.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), id: "ev-1", user: "u1")]), format: .json)
        #expect(retry.duplicates == 1)
        #expect(retry.accepted == 0)
        second.journal.close()
    }

    @Test func tornFinalRecordIsTruncatedAndEarlierRecordsSurvive() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let first = try makeIngestor(directory: dir, clock: clock)
        for i in 0..<10 {
            clock.advance(byMillis: 500)
            _ = try first.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), id: "e\(i)", user: "u\(i)")]), format: .json)
        }
        let eventsBefore = try first.query(MetricQuery(metric: .events, windowSeconds: 300)).value
        #expect(eventsBefore == 10)
        first.journal.close()

        // Simulate a crash mid-write: half a record at the end of the last segment.
        let segment = try #require(try Journal.listSegments(in: dir).last)
        let handle = try #require(FileHandle(forWritingAtPath: segment.path))
        handle.seekToEndOfFile()
        let record = JournalRecord.header(arrivalMs: clock.nowMillis(), format: .json, mask: UnsafeRawBufferPointer(start: nil, count: 0), body: UnsafeRawBufferPointer(start: nil, count: 0))
        handle.write(Data(record.prefix(20)))
        handle.closeFile()
        let tornSize = try #require(try Journal.listSegments(in: dir).last?.bytes)
        #expect(tornSize == segment.bytes + 20)

        let second = try makeIngestor(directory: dir, clock: clock)
        #expect(try second.query(MetricQuery(metric: .events, windowSeconds: 300)).value == 10)
        #expect(try Journal.listSegments(in: dir).first { $0.sequence == segment.sequence }?.bytes == segment.bytes)
        // A flipped byte inside a record is caught by the checksum, never crashes replay.
        second.journal.close()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment.path))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment.path))
        let third = try makeIngestor(directory: dir, clock: clock)
        #expect(try third.query(MetricQuery(metric: .events, windowSeconds: 300)).value == 9)
        third.journal.close()
    }

    @Test func durableWaitReturnsAfterFsync() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = JournalConfiguration()
        config.writePolicy = .durable
        let telemetry = Telemetry()
        let journal = try Journal(directory: dir, configuration: config, telemetry: telemetry, logger: testLogger)
        let body: [UInt8] = Array("{}".utf8)
        let mask: [UInt8] = [1]
        let positions = try (0..<50).map { _ in
            try body.withUnsafeBytes { b in try mask.withUnsafeBytes { m in try journal.append(arrivalMs: 1, format: .json, mask: m, body: b) } }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in positions { group.addTask { try await journal.waitDurable(p) } }
            try await group.waitForAll()
        }
        #expect(telemetry.fsyncs.value >= 1)
        #expect(telemetry.fsyncs.value <= 50)
        journal.close()
    }

    @Test func retentionDeletesOnlyOldWholeSegments() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = JournalConfiguration()
        config.segmentBytes = 1 << 20
        let journal = try Journal(directory: dir, configuration: config, telemetry: Telemetry(), logger: testLogger)
        let body = [UInt8](repeating: 0x20, count: 300_000)
        for _ in 0..<8 {
            _ = try body.withUnsafeBytes { b in try [UInt8(1)].withUnsafeBytes { m in try journal.append(arrivalMs: 1, format: .json, mask: m, body: b) } }
        }
        let segments = try Journal.listSegments(in: dir)
        #expect(segments.count >= 3)
        // Everything is "old" relative to a cutoff in the future, except the segment being written.
        let removed = journal.deleteSegments(olderThan: Int64(Date().timeIntervalSince1970 * 1000) + 60_000)
        #expect(removed == segments.count - 1)
        #expect(try Journal.listSegments(in: dir).count == 1)
        journal.close()
    }
}

@Suite struct IngestRefusalTests {
    @Test func ingestIsRefusedUntilReplayFinishes() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let journal = try Journal(directory: dir, configuration: JournalConfiguration(), telemetry: Telemetry(), logger: testLogger)
        let ingestor = Ingestor(
            configuration: IngestConfiguration(), aggregation: Aggregator.Configuration(), journal: journal,
            telemetry: Telemetry(), clock: clock, logger: testLogger)
        let body = TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "u")])
        #expect(throws: IngestError(.notReady, "the journal is still being replayed; retry shortly", retryAfterSeconds: 1)) {
            try ingestor.ingest(body, format: .json)
        }
        ingestor.markReady()
        #expect(try ingestor.ingest(body, format: .json).accepted == 1)
        journal.close()
    }

    @Test func aJournalFailureKeepsNothingAndForgetsTheIds() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let ingestor = try makeIngestor(directory: dir, clock: clock)
        ingestor.journal.close()
        let body = TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), id: "once", user: "u")])
        do {
            _ = try ingestor.ingest(body, format: .json)
            Issue.record("expected a journal failure")
        } catch {
            #expect(error.code == .journalFailure)
            #expect(error.retryAfterSeconds == 5)
        }
        #expect(try ingestor.query(MetricQuery(metric: .events, windowSeconds: 60)).value == 0)
        // The id was rolled back: a retry on a working journal is not a "duplicate".
        let reopened = try makeIngestor(directory: dir, clock: clock)
        #expect(try reopened.ingest(body, format: .json).accepted == 1)
        reopened.journal.close()
    }
}
