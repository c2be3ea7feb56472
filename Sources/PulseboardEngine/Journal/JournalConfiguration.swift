/// How the journal writes and keeps its segments.
public struct JournalConfiguration: Sendable, Equatable {
    /// When an acknowledged batch is on stable storage.
    public enum WritePolicy: String, Sendable, CaseIterable {
        /// fsync before the 2xx; concurrent requests share one fsync (group commit).
        case durable
        /// Written to the OS before the 2xx (survives a process crash), fsynced every `fsyncIntervalMs`.
        case batched
    }

    public var writePolicy: WritePolicy = .batched
    /// fsync period of the `batched` policy.
    public var fsyncIntervalMs: Int = 50
    /// A segment is closed and a new one started past this size.
    public var segmentBytes: Int = 64 * 1024 * 1024
    /// Whole segments older than this are deleted.
    public var retentionDays: Int = 90

    public init() {}
}

/// A journal I/O failure.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
