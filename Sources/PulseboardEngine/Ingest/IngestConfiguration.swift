import PulseboardCore

/// Ingest settings beyond body validation: rate limit and deduplication.
public struct IngestConfiguration: Sendable, Equatable {
    public var limits = IngestLimits()
    /// Events one user may send per calendar minute (0 = unlimited).
    public var maxEventsPerUserPerMinute = 1000
    /// How long an `event_id` is remembered for deduplication.
    public var dedupHorizonSeconds = 86_400
    /// Cap on remembered `event_id`s (about 40 bytes each); the oldest go first past it.
    public var dedupMaxIds = 5_000_000

    public init() {}
}

/// The answer to one ingest request.
public struct IngestOutcome: Sendable, Equatable {
    public var accepted = 0
    public var duplicates = 0
    public var rejected: [Rejection] = []
    /// Events refused by the per-user rate limit (also listed in `rejected`).
    public var rateLimited = 0
    /// Journal position to wait on under the `durable` policy; nil when nothing was written.
    public var journalPosition: UInt64? = nil
    public init() {}
}

/// A request-level ingest failure.
public struct IngestError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case notReady = "not_ready"
        case invalidBatch = "invalid_batch"
        case tooManyEvents = "too_many_events"
        case rateLimited = "rate_limited"
        case journalFailure = "journal_unavailable"
    }
    public var code: Code
    public var message: String
    /// Seconds a client should wait before retrying (429/503).
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }
}
