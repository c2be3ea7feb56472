import NIOCore

/// One subscription of a connection, as the hub sees it. It lives on its channel's event loop:
/// the hub calls `deliver` and `topicEnded` only from a task on `eventLoop`, one task per loop
/// per frame for all of that loop's subscribers, so no subscriber costs a task or a hop.
public protocol PushSubscriber: AnyObject, Sendable {
    /// The loop that owns the subscriber's connection.
    var eventLoop: any EventLoop { get }
    /// The bytes this subscriber reads.
    var encoding: PushEncoding { get }
    /// A delta of the topic (called on `eventLoop`).
    func deliver(_ frame: EncodedFrame, seq: UInt64)
    /// The topic's dashboard was removed (called on `eventLoop`).
    func topicEnded()
}

/// A connection the hub sweeps once a second on its event loop: heartbeats, pings, idle and
/// stalled-writer checks. Called only on `eventLoop`.
public protocol PushConnection: AnyObject, Sendable {
    var eventLoop: any EventLoop { get }
    /// Periodic upkeep at hub time `nowMs`.
    func sweep(nowMs: Int64)
    /// An `alert` message (called on `eventLoop`); skipped when the socket is not draining.
    func deliverAlert(_ frame: EncodedFrame)
    /// Ends the connection (graceful shutdown).
    func shutdown()
}

/// Delivery state of one subscription: which deltas it has, and whether it owes a resync. A
/// pure state machine; the transport asks it what to do with each frame.
public struct SubscriptionState: Sendable {
    /// Deltas at or below this seq are already covered (by a snapshot or an earlier delta).
    public private(set) var deliveredSeq: UInt64
    /// The socket stopped draining and deltas were dropped: a fresh snapshot is owed.
    public private(set) var resyncPending = false
    public init(deliveredSeq: UInt64) { self.deliveredSeq = deliveredSeq }

    /// What to do with a delta.
    public enum Action: Equatable, Sendable {
        /// Write it.
        case write
        /// Already covered; nothing to do.
        case skip
        /// The socket is full: dropped, a snapshot follows when it drains.
        case drop
    }

    /// Decides the fate of delta `seq` when the socket is or is not `writable`.
    public mutating func offer(seq: UInt64, writable: Bool) -> Action {
        if seq <= deliveredSeq { return .skip }
        if resyncPending || !writable {
            resyncPending = true
            return .drop
        }
        deliveredSeq = seq
        return .write
    }

    /// The socket drained: true when a snapshot must be written now.
    public mutating func drained() -> Bool {
        defer { resyncPending = false }
        return resyncPending
    }

    /// A snapshot at `seq` was written.
    public mutating func covered(upTo seq: UInt64) {
        deliveredSeq = max(deliveredSeq, seq)
    }
}
