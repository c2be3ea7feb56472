/// Validation limits applied while decoding a batch. Defaults follow seed 004 and protocol.md.
public struct IngestLimits: Sendable, Equatable {
    /// Maximum request body size in bytes.
    public var maxBodyBytes: Int = 5 * 1024 * 1024
    /// Maximum events in one batch.
    public var maxEventsPerBatch: Int = 1000
    /// Maximum properties per event.
    public var maxProperties: Int = 64
    /// Maximum size of an event's `properties` object, in bytes as sent.
    public var maxPropertiesBytes: Int = 8 * 1024
    /// How far in the future an event timestamp may be, in seconds.
    public var maxFutureSeconds: Int = 300
    /// Maximum length in bytes of ids (`user_id`, `session_id`, `event_id`, `thread_id`).
    public var maxIdBytes: Int = 256
    /// Reject event types outside the seed taxonomy.
    public var strict: Bool = false

    public init() {}
}

/// The dimensions events are grouped and filtered by, in a fixed order (bit `i` = dimension `i`).
/// `event_type` is always dimension 0; the others are looked up in `properties`, then `context`.
public struct DimensionSet: Sendable, Equatable {
    public let names: [String]
    let hashes: [UInt64]

    /// The maximum number of dimensions (they are tracked in a 32-bit mask).
    public static let maxCount = 32

    public static let defaultNames = [
        "event_type", "model_used", "feature_name", "message_type", "org_id", "segment", "page_path",
        "metric_type", "error_type", "user_impact", "feedback_type", "action",
    ]

    public init(_ names: [String] = DimensionSet.defaultNames) {
        var list = ["event_type"]
        for n in names where n != "event_type" && !list.contains(n) { list.append(n) }
        self.names = Array(list.prefix(DimensionSet.maxCount))
        self.hashes = self.names.map { StableHash.hash($0) }
    }

    /// Index of the dimension whose name hashes to `hash`.
    @inline(__always)
    public func index(ofHash hash: UInt64) -> Int? {
        for i in 1..<hashes.count where hashes[i] == hash { return i }
        return nil
    }

    /// Index of the dimension called `name`.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// Request-level decode failure: the whole body is refused and nothing is kept.
public struct BatchError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case invalidShape = "invalid_batch"
        case tooManyEvents = "too_many_events"
    }
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}
