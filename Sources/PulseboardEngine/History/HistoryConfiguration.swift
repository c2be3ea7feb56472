import PulseboardCore

/// History settings: time zone of day boundaries, flush cadence, retention per level, and
/// which event types make a user "active".
public struct HistoryConfiguration: Sendable, Equatable {
    /// IANA zone for day, week, month, quarter and year boundaries.
    public var timeZone = "UTC"
    /// Events are flushed to the store in slots of this many ms of arrival time.
    public var flushIntervalMs = 10_000
    /// A slot is flushed this long after it ends (batches still in flight land in it).
    public var flushGraceMs = 5_000
    public var minuteRetentionDays = 7
    public var hourRetentionDays = 90
    public var dayRetentionDays = 730
    /// Event types that count a user as active (default: all but the technical
    /// `performance_metric` and `error_tracking`; custom events count).
    public var activeEventTypes: [EventType] = EventType.allCases.filter { $0 != .performanceMetric && $0 != .errorTracking }
    /// Series kept per dimension before the rest share `other`.
    public var maxValuesPerDimension = 1000

    public init() {}
}
