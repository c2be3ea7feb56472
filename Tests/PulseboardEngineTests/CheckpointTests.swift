import Foundation
import PulseboardCore
import PulseboardSQLite
import Testing
@testable import PulseboardEngine

/// The window checkpoint: a restart from checkpoint + later journal equals a full replay and
/// the live state before it; anything damaged or foreign is refused and the journal replayed.
@Suite struct CheckpointTests {
    static func results(_ ingestor: Ingestor) throws -> [QueryResult] {
        try JournalTests.queries.map { try ingestor.query($0) }
    }

    static func expectEqual(_ a: [QueryResult], _ b: [QueryResult], _ what: String) {
        for (x, y) in zip(a, b) {
            let name = "\(what): \(x.query.metric.rawValue) \(x.query.windowSeconds)s \(x.query.groupBy ?? "")"
            #expect(x.value == y.value, "\(name)")
            #expect(x.series == y.series, "\(name) series")
            #expect(x.groups == y.groups, "\(name) groups")
        }
    }

    /// Starts an ingestor the way the server does: JournalService restores and replays. The
    /// checkpoint lives in `dir`, the journal in `journal` (default: `dir`).
    static func start(
        _ dir: String, journal: String? = nil, clock: ManualClock, history: History? = nil, pricing: Pricing? = nil
    ) throws -> (Ingestor, JournalService) {
        let journal = journal ?? dir
        let ingestor = try pricing.map { try makeIngestor(directory: journal, clock: clock, history: history, replay: false, pricing: $0) }
            ?? makeIngestor(directory: journal, clock: clock, history: history, replay: false)
        let service = JournalService(
            ingestor: ingestor, replayHorizonSeconds: Aggregator.maxWindowSeconds,
            checkpointPath: dir + "/" + WindowCheckpoint.fileName, logger: testLogger)
        service.replay()
        return (ingestor, service)
    }

    @Test func checkpointPlusLaterJournalEqualsFullReplay() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)

        // Run 1: traffic, graceful stop (checkpoint written).
        let (first, firstService) = try CheckpointTests.start(dir, clock: clock)
        #expect(first.isReady)
        let accepted = try JournalTests.traffic(first, clock: clock, seed: 11, steps: 150)
        #expect(accepted > 300)
        let beforeStop = try CheckpointTests.results(first)
        firstService.saveCheckpoint()
        #expect(FileManager.default.fileExists(atPath: dir + "/" + WindowCheckpoint.fileName))
        // Sealed: nothing more is taken.
        #expect(throws: IngestError.self) {
            try first.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), user: "late")]), format: .json)
        }

        // Run 2 restores it (same answers), takes more traffic, then crashes (no checkpoint).
        clock.advance(byMillis: 30_000)
        let (second, _) = try CheckpointTests.start(dir, clock: clock)
        #expect(second.telemetry.replayedEvents.value == 0, "everything came from the checkpoint")
        let afterRestore = try CheckpointTests.results(second)
        #expect(!beforeStop.isEmpty)
        // The first ingestor moved 30 s on is what the restored one must show.
        CheckpointTests.expectEqual(try CheckpointTests.results(first), afterRestore, "restored")
        let retry = try second.ingest(TestEvent.batch([TestEvent(type: "x", timestampMs: clock.nowMillis(), id: "ev-1", user: "u1")]), format: .json)
        #expect(retry.duplicates == 1, "event ids seen before the checkpoint are still remembered")
        let later = try JournalTests.traffic(second, clock: clock, seed: 12, steps: 100)
        let live = try CheckpointTests.results(second)
        second.journal.close()

        // Run 3: old checkpoint + run 2's journal. Run 4: the checkpoint deleted, the whole journal.
        let (third, thirdService) = try CheckpointTests.start(dir, clock: clock)
        CheckpointTests.expectEqual(live, try CheckpointTests.results(third), "checkpoint + later journal")
        #expect(third.telemetry.replayedEvents.value == UInt64(later), "only run 2's events were replayed")
        thirdService.saveCheckpoint()
        try FileManager.default.removeItem(atPath: dir + "/" + WindowCheckpoint.fileName)
        let (fourth, _) = try CheckpointTests.start(dir, clock: clock)
        CheckpointTests.expectEqual(live, try CheckpointTests.results(fourth), "full replay")
        #expect(fourth.telemetry.replayedEvents.value == UInt64(accepted + later), "the retried duplicate is not counted")
        fourth.journal.close()
    }

    @Test func damagedOrForeignCheckpointsAreRefusedAndTheJournalReplayed() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        let path = dir + "/" + WindowCheckpoint.fileName
        let (first, firstService) = try CheckpointTests.start(dir, clock: clock)
        let accepted = try JournalTests.traffic(first, clock: clock, seed: 21, steps: 80)
        let live = try CheckpointTests.results(first)
        firstService.saveCheckpoint()
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let fingerprint = first.checkpointFingerprint

        // A flipped payload byte, a truncated file, another file entirely.
        var flipped = good
        flipped[flipped.count - 100] ^= 0x5A
        try flipped.write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError("payload checksum does not match")) { try WindowCheckpoint.load(from: path, fingerprint: fingerprint) }
        try good.prefix(good.count / 2).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError.self) { try WindowCheckpoint.load(from: path, fingerprint: fingerprint) }
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotError("not a window checkpoint")) { try WindowCheckpoint.load(from: path, fingerprint: fingerprint) }

        // Each start falls back to the journal and answers the same.
        for damaged in [flipped, good.prefix(good.count / 2)] {
            try damaged.write(to: URL(fileURLWithPath: path))
            let (again, _) = try CheckpointTests.start(dir, clock: clock)
            CheckpointTests.expectEqual(live, try CheckpointTests.results(again), "after a damaged checkpoint")
            #expect(again.telemetry.replayedEvents.value == UInt64(accepted))
            again.journal.close()
        }

        // Other prices would give other spend: the checkpoint is refused, the journal replayed.
        try good.write(to: URL(fileURLWithPath: path))
        let repriced = Pricing(perThousandTokens: ["m1": 0.5], defaultPerThousandTokens: 0.001)
        let (other, _) = try CheckpointTests.start(dir, clock: clock, pricing: repriced)
        #expect(other.checkpointFingerprint != fingerprint)
        #expect(throws: SnapshotError.self) { try WindowCheckpoint.load(from: path, fingerprint: other.checkpointFingerprint) }
        #expect(try other.query(MetricQuery(metric: .events, windowSeconds: 86_400)).value == live.first { $0.query.metric == .events && $0.query.windowSeconds == 86_400 && $0.query.groupBy == nil }?.value)
        other.journal.close()

        // A checkpoint whose segment has changed size (journal replaced) is not trusted.
        try good.write(to: URL(fileURLWithPath: path))
        let segment = try #require(try Journal.listSegments(in: dir).first)
        let handle = try #require(FileHandle(forWritingAtPath: segment.path))
        handle.truncateFile(atOffset: UInt64(segment.bytes / 2))
        handle.closeFile()
        let (cut, _) = try CheckpointTests.start(dir, clock: clock)
        let events = try cut.query(MetricQuery(metric: .events, windowSeconds: 86_400)).value ?? 0
        let liveEvents = live.first { $0.query.metric == .events && $0.query.windowSeconds == 86_400 && $0.query.groupBy == nil }?.value ?? 0
        #expect(events < liveEvents, "the cut journal holds fewer events than the checkpoint; the journal wins")
        cut.journal.close()
    }

    /// History keeps its own watermark: records a checkpoint covers still reach history when they
    /// arrived after it, and nothing reaches it twice.
    @Test func checkpointAndHistoryTogetherCountNothingTwice() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clock = ManualClock(millis: 1_790_000_000_000)
        func start() throws -> (History, Ingestor, JournalService) {
            let history = try HistoryTests.openHistory(dir)
            let (ingestor, service) = try CheckpointTests.start(dir, journal: dir + "/journal", clock: clock, history: history)
            return (history, ingestor, service)
        }
        let window = MetricQuery(metric: .events, windowSeconds: 3600)

        var (history, ingestor, service) = try start()
        try HistoryTests.sendFlushedAndPending(ingestor, history: history, clock: clock)
        let before = HistoryTests.readings(ingestor, clock)
        #expect(before[0] == 70)
        let live = try ingestor.query(window).value
        // The checkpoint is written, but history's last 30 events never reach the store.
        service.saveCheckpoint()

        (history, ingestor, service) = try start()
        #expect(ingestor.telemetry.replayedEvents.value == 30, "only what history lacked was read back, into history alone")
        #expect(HistoryTests.readings(ingestor, clock) == before)
        #expect(try ingestor.query(window).value == live)

        // Retried ids are still known; new ones count. Then a crash: the old checkpoint + this
        // run's segment rebuild both.
        #expect(try ingestor.ingest(HistoryTests.chats(10, at: clock.nowMillis(), users: 0..<10, org: "acme"), format: .json).duplicates == 10)
        clock.advance(byMillis: 1000)
        _ = try ingestor.ingest(HistoryTests.chats(10, at: clock.nowMillis(), users: 0..<10, org: "acme"), format: .json)
        let after = HistoryTests.readings(ingestor, clock)
        #expect(after[0] == 80)
        let liveAfter = try ingestor.query(window).value
        #expect(liveAfter == (live ?? 0) + 10)
        ingestor.journal.close()

        (history, ingestor, service) = try start()
        #expect(HistoryTests.readings(ingestor, clock) == after)
        #expect(try ingestor.query(window).value == liveAfter)
        ingestor.journal.close()
    }
}
