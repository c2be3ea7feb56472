import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import PulseboardCore
import PulseboardEngine

/// `GET /health`, `GET /ready` and `GET /metrics` (Prometheus text).
struct OperationsController<Context: RequestContext>: Sendable {
    let ingestor: Ingestor
    let hub: Hub

    func addRoutes(to router: Router<Context>) {
        router.get("/health") { _, _ in Response.json(Array(#"{"status":"ok"}"#.utf8)) }
        router.get("/ready") { _, _ in
            ingestor.isReady
                ? Response.json(Array(#"{"ready":true}"#.utf8))
                : Response.json(Array(#"{"ready":false,"reason":"replaying the journal"}"#.utf8), status: .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            let stats = ingestor.stats()
            let push = hub.counts()
            let text = ingestor.telemetry.render(gauges: [
                .init(name: "pulseboard_ready", help: "1 once the journal is replayed.", value: ingestor.isReady ? 1 : 0),
                .init(name: "pulseboard_window_memory_bytes", help: "Approximate bytes held by the live windows.", value: Double(stats.windowMemoryBytes)),
                .init(name: "pulseboard_window_series", help: "Live series (all events plus one per tracked dimension value).", value: Double(stats.series)),
                .init(name: "pulseboard_dedup_ids", help: "event_ids remembered for deduplication.", value: Double(stats.dedupIds)),
                .init(name: "pulseboard_dedup_memory_bytes", help: "Approximate bytes held by the dedup set.", value: Double(stats.dedupMemoryBytes)),
                .init(name: "pulseboard_tracked_users", help: "Users seen in the last 24 h.", value: Double(stats.trackedUsers)),
                .init(name: "pulseboard_journal_disk_bytes", help: "Bytes of journal segments on disk.", value: Double(ingestor.journal.diskBytes())),
                .init(name: "pulseboard_push_topics", help: "Live topics (dashboard × variable values).", value: Double(push.topics)),
                .init(name: "pulseboard_push_subscribers", help: "Stream subscribers.", value: Double(push.subscribers)),
                .init(name: "pulseboard_push_streams", help: "Open SSE streams and WebSocket connections.", value: Double(hub.openStreams)),
            ])
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: text)))
        }
    }
}
