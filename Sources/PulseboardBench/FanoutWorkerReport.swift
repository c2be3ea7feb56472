/// What one fan-out worker (one event loop, in this process or a child process) measured; sent
/// from a child process to its parent as one JSON line.
struct FanoutWorkerReport: Sendable, Codable {
    /// Subscribers this worker was asked to open.
    var subscribers: Int
    /// Subscribers whose response head (200 for SSE, 101 for WebSocket) arrived.
    var ready: Int
    /// Subscribers that could not connect, by reason.
    var connectErrors: [String: Int]
    /// Errors after connecting (disconnects, error messages), during warmup or measurement, by reason.
    var errors: [String: Int]
    /// Frames with a timestamp inside the window, received by any subscriber (one per subscriber).
    var delivered: Int
    /// Frames received with a timestamp outside the window (warmup, or before it).
    var outsideWindow: Int
    var snapshots: Int
    /// Subscribers by the phase of the topic their snapshot came from (its `seq` >> 44; see
    /// `Hub.phaseSeqShift`): each phase is a stream of its own frames.
    var subscribersByPhase: [Int: Int]
    var bytesReceived: Int
    /// Distinct frame keys (`seq`, or timestamp in ms) inside the window.
    var frameKeys: [Int64]
    /// Receive time minus frame timestamp of every delivery inside the window, in µs.
    var latenciesMicros: [Int64]
}
