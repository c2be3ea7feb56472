import Foundation
import Logging
import PulseboardCore
@testable import PulseboardEngine

/// One event as a test writes it, and as the brute-force model sees it.
struct TestEvent {
    var type: String
    var timestampMs: Int64
    var id: String?
    var user: String
    var session: String?
    var org: String?
    var model: String?
    var thread: String?
    var responseTimeMs: Double?
    var tokens: Int?
    var success: Bool?

    var json: String {
        var props: [String] = []
        switch type {
        case "chat_interaction":
            props = [#""thread_id":"\#(thread ?? "t")""#, #""message_id":"m""#, #""message_type":"ai_response""#, #""prompt_length":10"#, #""is_follow_up":false"#]
            if let model { props.append(#""model_used":"\#(model)""#) }
            if let r = responseTimeMs { props.append(#""response_time_ms":\#(r)"#) }
            if let t = tokens { props.append(#""tokens_consumed":\#(t)"#) }
        case "thread_lifecycle":
            props = [#""thread_id":"\#(thread ?? "t")""#, #""action":"created""#]
        case "feature_usage":
            props = [#""feature_name":"search""#, #""action":"click""#, #""success":\#(success ?? true)"#]
        case "performance_metric":
            props = [#""metric_type":"api_call""#, #""duration_ms":12.5"#, #""success":\#(success ?? true)"#]
        case "error_tracking":
            props = [#""error_type":"Timeout""#, #""error_message":"boom""#, #""user_impact":"high""#]
        default:
            props = [#""custom_field":1"#]
        }
        var fields = [#""event_type":"\#(type)""#, #""timestamp":"\#(Timestamp.format(millis: timestampMs))""#, #""user_id":"\#(user)""#]
        if let id { fields.append(#""event_id":"\#(id)""#) }
        if let session { fields.append(#""session_id":"\#(session)""#) }
        if let org { fields.append(#""context":{"org_id":"\#(org)"}"#) }
        fields.append(#""properties":{"# + props.joined(separator: ",") + "}")
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func batch(_ events: [TestEvent]) -> [UInt8] {
        Array((#"{"events":["# + events.map(\.json).joined(separator: ",") + "]}").utf8)
    }
}

/// A fresh data directory under the system temp dir.
func temporaryDirectory(_ name: String = "pulseboard-test") -> String {
    let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A quiet logger for tests.
let testLogger: Logger = {
    var l = Logger(label: "test")
    l.logLevel = .critical
    return l
}()

/// Builds a ready ingestor over a journal in `directory`, replaying what is there (or, with
/// `replay: false`, a fresh one for `JournalService` to restore and replay).
func makeIngestor(
    directory: String, clock: ManualClock, history: History? = nil, replay: Bool = true,
    pricing: Pricing = Pricing(perThousandTokens: ["m1": 0.01, "m2": 0.002], defaultPerThousandTokens: 0.001),
    configure: (inout IngestConfiguration) -> Void = { _ in }
) throws -> Ingestor {
    var ingest = IngestConfiguration()
    ingest.maxEventsPerUserPerMinute = 0
    configure(&ingest)
    var journalConfig = JournalConfiguration()
    journalConfig.fsyncIntervalMs = 20
    journalConfig.segmentBytes = 1 << 20
    let telemetry = Telemetry()
    let journal = try Journal(directory: directory, configuration: journalConfig, telemetry: telemetry, logger: testLogger)
    var agg = Aggregator.Configuration()
    agg.pricing = pricing
    let ingestor = Ingestor(configuration: ingest, aggregation: agg, journal: journal, telemetry: telemetry, clock: clock, history: history, logger: testLogger)
    guard replay else { return ingestor }
    _ = try ingestor.replay(journal.previousSegments)
    ingestor.markReady()
    return ingestor
}
