import Foundation
import Logging
import PulseboardCore
import PulseboardEngine

/// **Hub publish to 10,000 subscribers**: one `Hub.tick()` of a topic (the engagement
/// dashboard, default variables) with 10,000 in-memory subscribers, half SSE and half
/// WebSocket, on one event loop: compute the widgets from the ingestor's live windows, diff
/// them against the last frame, encode the delta once per transport, and hand the same bytes
/// to every subscriber (which only counts them).
///
/// Before each tick, outside the measurement (`prepare`), the clock moves one refresh
/// interval (1 s) and a fresh 100-event batch is ingested, so every tick has a delta to
/// publish, over five minutes of history.
public final class HubPublishWorkload: MicroWorkload {
    public static let subscriberCount = 10_000

    let clock = ManualClock(millis: Fixtures.nowMs - 300_000)
    let journal: Journal
    let ingestor: Ingestor
    let hub: Hub
    let subscribers: [CountingSubscriber]
    let refreshMs: Int64
    var traffic = Fixtures.traffic(seed: 13)

    public init() {
        var logger = Logger(label: "pulseboard-micro")
        logger.logLevel = .critical
        let telemetry = Telemetry()
        var journalConfiguration = JournalConfiguration()
        // No fsync thread wake-ups during a run, and one segment for any run.
        journalConfiguration.fsyncIntervalMs = 3_600_000
        journalConfiguration.segmentBytes = 1 << 30
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pulseboard-micro-\(UUID().uuidString)").path
        do {
            journal = try Journal(directory: directory, configuration: journalConfiguration, telemetry: telemetry, logger: logger)
        } catch {
            preconditionFailure("journal in \(directory): \(error)")
        }
        // The open segment keeps working once unlinked; nothing is left behind, even on a crash.
        try? FileManager.default.removeItem(atPath: directory)
        var ingest = IngestConfiguration()
        ingest.maxEventsPerUserPerMinute = 0
        ingestor = Ingestor(
            configuration: ingest, aggregation: Fixtures.aggregation(), journal: journal, telemetry: telemetry, clock: clock,
            logger: logger)
        ingestor.markReady()
        // One phase, so that each tick publishes to all 10,000 (by default a topic this large
        // runs in ten phases of 1,000 that tick 100 ms apart).
        var push = PushConfiguration()
        push.phaseSize = 0
        hub = Hub(configuration: push, ingestor: ingestor, telemetry: telemetry)

        let spec = Fixtures.engagementSpec()
        refreshMs = Int64(spec.refreshMs)
        let loop = InlineEventLoop()
        subscribers = (0..<HubPublishWorkload.subscriberCount).map { i in
            CountingSubscriber(eventLoop: loop, encoding: i % 2 == 0 ? .sse : .webSocket)
        }
        // Five minutes of traffic before anyone subscribes.
        for _ in 0..<300 {
            clock.advance(byMillis: 1000)
            ingestBatch()
        }
        let variables = Fixtures.engagementVariables(spec)
        for s in subscribers {
            do {
                _ = try hub.subscribe(spec: spec, variables: variables, since: nil, subscriber: s)
            } catch {
                preconditionFailure("subscribe: \(error.message)")
            }
        }
        for _ in 0..<3 {
            prepare()
            run()
        }
        precondition(subscribers.allSatisfy { $0.framesReceived == 3 }, "a tick did not reach every subscriber")
    }

    deinit { journal.close() }

    /// Frames delivered so far, over all subscribers.
    public var delivered: Int { subscribers.reduce(0) { $0 + $1.framesReceived } }

    func ingestBatch() {
        var body: [UInt8] = []
        traffic.appendMixedBatch(into: &body, count: Fixtures.batchSize, atMillis: clock.nowMillis())
        do {
            _ = try body.withUnsafeBytes { try ingestor.ingest($0, format: .json) }
        } catch {
            preconditionFailure("ingest: \(error)")
        }
    }

    public var prepares: Bool { true }

    /// The next refresh interval: the clock moves on and a batch arrives.
    public func prepare() {
        clock.advance(byMillis: refreshMs)
        ingestBatch()
    }

    public func run() { hub.tick() }
}
