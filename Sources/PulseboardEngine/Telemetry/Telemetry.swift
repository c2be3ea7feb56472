/// Operational counters, rendered as Prometheus text at `/metrics`. Lock-free, so the ingest
/// path can count without contention.
public final class Telemetry: Sendable {
    public let eventsAccepted = Counter()
    public let eventsRejected = Counter()
    public let eventsDuplicate = Counter()
    public let eventsRateLimited = Counter()
    public let eventsLate = Counter()
    public let eventsHistoryOnly = Counter()
    public let batches = Counter()
    public let batchesRefused = Counter()
    public let journalBytes = Counter()
    public let fsyncs = Counter()
    public let fsyncNanos = Counter()
    public let dedupEvictedEarly = Counter()
    public let replayedEvents = Counter()
    public let framesPublished = Counter()
    public let alertsPublished = Counter()
    public let framesDelivered = Counter()
    public let subscribersEvicted = Counter()
    public let streamsRefused = Counter()
    public let framesCoalesced = Counter()
    public let webSocketsTimedOut = Counter()
    public let connectionsRefused = Counter()
    /// Ingest request latency in seconds, from body received to response ready.
    public let ingestLatency = Histogram(bounds: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1])

    public init() {}

    /// Records one ingest request's latency, from `started` to now.
    public func observeIngest(since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        ingestLatency.observe(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
    }

    /// A gauge value computed at scrape time.
    public struct Gauge: Sendable {
        public var name: String
        public var help: String
        public var value: Double
        public init(name: String, help: String, value: Double) {
            self.name = name
            self.help = help
            self.value = value
        }
    }

    /// Prometheus text exposition of every counter plus `gauges`.
    public func render(gauges: [Gauge]) -> String {
        var out = ""
        func counter(_ name: String, _ help: String, _ c: Counter) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n\(name) \(c.value)\n"
        }
        counter("pulseboard_events_accepted_total", "Events accepted and journaled.", eventsAccepted)
        counter("pulseboard_events_rejected_total", "Events rejected by validation.", eventsRejected)
        counter("pulseboard_events_duplicate_total", "Events dropped as duplicates of an event_id seen within the dedup horizon.", eventsDuplicate)
        counter("pulseboard_events_rate_limited_total", "Events refused by the per-user rate limit.", eventsRateLimited)
        counter("pulseboard_events_late_total", "Accepted events that arrived late (aggregation.late_after_seconds).", eventsLate)
        counter("pulseboard_events_history_only_total", "Accepted events older than every live window (journaled, not in windows).", eventsHistoryOnly)
        counter("pulseboard_ingest_batches_total", "Ingest requests answered 200.", batches)
        counter("pulseboard_ingest_batches_refused_total", "Ingest requests refused as a whole (400/401/403/413/415/429/503).", batchesRefused)
        counter("pulseboard_journal_bytes_total", "Bytes appended to the journal by this process.", journalBytes)
        counter("pulseboard_journal_fsyncs_total", "fsync calls on journal segments.", fsyncs)
        out += "# HELP pulseboard_journal_fsync_seconds_total Time spent in journal fsync.\n# TYPE pulseboard_journal_fsync_seconds_total counter\n"
        out += "pulseboard_journal_fsync_seconds_total \(Double(fsyncNanos.value) / 1e9)\n"
        counter("pulseboard_dedup_evicted_early_total", "event_ids forgotten before the dedup horizon because ingest.dedup_max_ids was reached.", dedupEvictedEarly)
        counter("pulseboard_replayed_events_total", "Events replayed from the journal at start-up.", replayedEvents)
        counter("pulseboard_frames_published_total", "Deltas published by the hub (one encoding each).", framesPublished)
        counter("pulseboard_alerts_published_total", "Alert transitions (fired, escalated, resolved) pushed to every stream.", alertsPublished)
        counter("pulseboard_frames_delivered_total", "Deltas handed to subscribers (one per subscriber per delta).", framesDelivered)
        counter("pulseboard_subscribers_evicted_total", "Subscribers disconnected for staying unwritable (push.unwritable_timeout_seconds).", subscribersEvicted)
        counter("pulseboard_streams_refused_total", "Streams answered 503 because push.max_streams were open.", streamsRefused)
        counter("pulseboard_frames_coalesced_total", "Deltas dropped for a subscriber whose socket was full, replaced by one snapshot when it drained.", framesCoalesced)
        counter("pulseboard_websockets_timed_out_total", "WebSocket connections closed for not answering pings.", webSocketsTimedOut)
        counter("pulseboard_connections_refused_total", "Connections answered 503 because server.max_connections were open.", connectionsRefused)
        ingestLatency.render(name: "pulseboard_ingest_latency_seconds", help: "Ingest request latency (decode, journal, aggregate; durable policy includes fsync).", into: &out)
        for g in gauges {
            out += "# HELP \(g.name) \(g.help)\n# TYPE \(g.name) gauge\n\(g.name) \(g.value)\n"
        }
        return out
    }
}
