/// One decoded, validated event: compact, fixed-size, no heap storage. Strings stay in the
/// request body and are referenced by hash and byte range.
public struct DecodedEvent: Sendable {
    /// Position of the event in its batch (array index, or line index for NDJSON).
    public var index: Int32 = 0
    public var type: EventType = .custom
    /// The `event_type` string as sent (custom types are grouped by it).
    public var typeName: StringRef = .none
    /// Event time in epoch milliseconds; `Int64.min` until resolved (server time when absent).
    public var timestampMs: Int64 = .min
    /// Stable hash of `event_id`, 0 when absent.
    public var eventId: UInt64 = 0
    public var user: StringRef = .none
    public var session: StringRef = .none
    public var thread: StringRef = .none
    public var model: StringRef = .none
    public var responseTimeMs: Double = .nan
    public var durationMs: Double = .nan
    public var tokens: Double = 0
    /// -1 absent, 0 false, 1 true.
    public var success: Int8 = -1
    /// Index into `thread_lifecycle.action`'s enum, -1 when absent.
    public var threadAction: Int8 = -1
    /// Index into `feedback_submission.feedback_type`'s enum, -1 when absent.
    public var feedbackType: Int8 = -1
    public var score: Int32 = .min
    /// Dimension values carried by the event itself: `batch.dims[dimStart ..< dimStart+dimCount]`.
    public var dimStart: Int32 = 0
    public var dimCount: Int16 = 0
    /// Bit per dimension present in the event's own values.
    public var dimMask: UInt32 = 0

    public init() {}
}

/// The value of one tracked dimension (`model_used`, `org_id`, …) for an event.
public struct DimValue: Sendable {
    public var dimension: UInt8
    public var value: StringRef
}

/// Why one event of a batch was not accepted.
public struct Rejection: Sendable, Equatable, Codable {
    public var index: Int
    public var field: String
    public var reason: String

    public init(index: Int, field: String, reason: String) {
        self.index = index
        self.field = field
        self.reason = reason
    }
}

/// The result of decoding one request body: the valid events, their dimension values, the
/// batch context and the per-event rejections.
public struct DecodedBatch: Sendable {
    public var events: [DecodedEvent] = []
    public var dims: [DimValue] = []
    /// Dimension values from the batch `context`, applying to events that lack their own.
    public var contextDims: [DimValue] = []
    public var contextDimMask: UInt32 = 0
    public var contextUser: StringRef = .none
    public var contextSession: StringRef = .none
    public var rejections: [Rejection] = []
    /// Number of events in the body (valid or not).
    public var total: Int = 0
    /// NDJSON lines in the body, blank ones included (a last line without a newline counts).
    public var lines: Int = 0

    public init() {}

    /// Calls `body` with every dimension value that applies to `e`: its own, then the batch
    /// context's for the dimensions it lacks.
    @inline(__always)
    public func forEachDimension(of e: DecodedEvent, _ body: (DimValue) -> Void) {
        var i = Int(e.dimStart)
        let end = i + Int(e.dimCount)
        while i < end {
            body(dims[i])
            i += 1
        }
        if contextDimMask & ~e.dimMask != 0 {
            for dv in contextDims where e.dimMask & (1 << UInt32(dv.dimension)) == 0 { body(dv) }
        }
    }

    /// Resets for reuse, keeping capacity.
    public mutating func removeAll() {
        events.removeAll(keepingCapacity: true)
        dims.removeAll(keepingCapacity: true)
        contextDims.removeAll(keepingCapacity: true)
        rejections.removeAll(keepingCapacity: true)
        contextDimMask = 0
        contextUser = .none
        contextSession = .none
        total = 0
        lines = 0
    }
}
