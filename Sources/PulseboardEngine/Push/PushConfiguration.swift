/// Fan-out settings.
public struct PushConfiguration: Sendable, Equatable {
    /// Bytes a connection may have waiting to be written (its socket not draining) before it
    /// counts as unwritable: its deltas are then coalesced into one snapshot when it drains.
    public var subscriberBufferBytes = 256 * 1024
    /// How long each topic keeps its deltas for resume (`Last-Event-ID`, `since`).
    public var deltaRetentionSeconds = 120
    /// SSE heartbeat comment period; WebSockets are pinged every two periods and closed when
    /// silent for four.
    public var heartbeatSeconds = 15
    /// Live topics (dashboard × variable values) at most.
    public var maxTopics = 1000
    /// Subscriptions one WebSocket connection may hold.
    public var maxSubscriptionsPerConnection = 16
    /// A connection that stays unwritable this long (its client not reading) is disconnected.
    public var unwritableTimeoutSeconds = 30
    /// Open streams (SSE responses and WebSocket connections) at most; more get 503.
    public var maxStreams = 15_000
    /// Write deltas straight to the socket (one `send(2)`) while NIO holds nothing for the
    /// connection, instead of through NIO's channel pipeline and pending-writes queue.
    public var directWrites = true
    /// Subscribers a topic's phase takes before the next phase opens (0: one phase). Each phase
    /// computes and sends its own frames, its refresh offset from the others', so a large
    /// audience is written in several small bursts spread over the refresh, not one long one.
    public var phaseSize = 1000
    /// Phases a topic splits into at most (and never closer than 50 ms apart).
    public var maxPhases = 10

    public init() {}
}

/// Why a subscription was refused.
public struct SubscribeError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }
}
