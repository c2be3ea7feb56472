import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// A subscriber whose writer is a Swift task (the SSE stream of a keep-alive connection that
/// Hummingbird already serves, and the hub's tests): a bounded queue of pre-encoded frames.
/// The hub pushes without ever waiting; the writer drains at its own pace. When the queue
/// fills, its pending deltas are dropped and the writer is told to resynchronise with one fresh
/// snapshot (coalescing), so a slow reader costs bounded memory and never delays anyone else.
public final class SubscriberQueue: PushSubscriber, PushConnection {
    /// What the writer gets next.
    public enum Next: Sendable {
        /// Frames to write, in order.
        case frames([ByteBuffer])
        /// The queue overflowed: write a fresh snapshot, then continue.
        case resync
        /// The subscription is over.
        case closed
    }

    struct State {
        var items: Deque<(seq: UInt64, bytes: ByteBuffer)> = []
        var waiter: CheckedContinuation<Next, Never>? = nil
        var closed = false
        var overflowed = false
        /// Deltas at or below this seq are already covered (by a snapshot).
        var deliveredSeq: UInt64 = 0
        var dropped: UInt64 = 0
        /// When frames started waiting (hub clock); nil while the writer keeps up.
        var pendingSinceMs: Int64? = nil
        /// Closes the subscriber's connection (its writer may be stuck in a write).
        var evict: (@Sendable () -> Void)? = nil
        var lastHeartbeatMs: Int64 = 0
    }

    public let capacity: Int
    public let encoding: PushEncoding
    public let eventLoop: any EventLoop
    /// Heartbeat period, for `sweep`.
    let heartbeatMs: Int64
    /// Stalled-writer timeout, for `sweep`.
    let unwritableTimeoutMs: Int64
    /// The hub's clock, for when frames start waiting.
    let clock: @Sendable () -> Int64
    let state: NIOLockedValueBox<State>

    public init(
        capacity: Int, eventLoop: any EventLoop, encoding: PushEncoding = .sse, heartbeatSeconds: Int = 15,
        unwritableTimeoutSeconds: Int = 30, clock: @escaping @Sendable () -> Int64 = { 0 }
    ) {
        self.clock = clock
        self.capacity = max(1, capacity)
        self.eventLoop = eventLoop
        self.encoding = encoding
        self.heartbeatMs = Int64(heartbeatSeconds) * 1000
        self.unwritableTimeoutMs = Int64(unwritableTimeoutSeconds) * 1000
        self.state = NIOLockedValueBox(State())
    }

    /// Queues the subscriber's encoding of `frame`.
    public func push(_ frame: EncodedFrame, seq: UInt64, nowMs: Int64 = 0) {
        push(frame.bytes(for: encoding), seq: seq, nowMs: nowMs)
    }

    public func deliver(_ frame: EncodedFrame, seq: UInt64) {
        push(frame, seq: seq, nowMs: clock())
    }

    public func topicEnded() { close() }

    /// Heartbeats for SSE, and eviction once frames have waited past the timeout.
    public func sweep(nowMs: Int64) {
        if isStalled(nowMs: nowMs, timeoutMs: unwritableTimeoutMs) {
            evict()
            return
        }
        let due = state.withLockedValue { s in
            guard encoding == .sse, nowMs - s.lastHeartbeatMs >= heartbeatMs else { return false }
            s.lastHeartbeatMs = nowMs
            return true
        }
        if due { push(PushWire.sseHeartbeat, seq: 0, nowMs: nowMs) }
    }

    public func shutdown() { close() }

    /// Queues an `alert` message (seq 0, like a heartbeat: it never moves the resume point).
    public func deliverAlert(_ frame: EncodedFrame) {
        push(frame.bytes(for: encoding), seq: 0, nowMs: clock())
    }

    /// Queues a frame (seq 0 = not a delta, e.g. a heartbeat). Never blocks.
    public func push(_ bytes: ByteBuffer, seq: UInt64, nowMs: Int64 = 0) {
        let resume: (CheckedContinuation<Next, Never>, Next)? = state.withLockedValue { s in
            guard !s.closed else { return nil }
            if seq != 0 && seq <= s.deliveredSeq { return nil }
            if s.overflowed { return nil }  // a resync is pending; it will cover this frame
            // Only frames that actually wait start the unwritable clock.
            if s.pendingSinceMs == nil { s.pendingSinceMs = nowMs }
            if s.items.count >= capacity {
                s.dropped += UInt64(s.items.count)
                s.items.removeAll()
                s.overflowed = true
            } else {
                s.items.append((seq, bytes))
            }
            guard let w = s.waiter else { return nil }
            s.waiter = nil
            return (w, s.take())
        }
        if let (w, next) = resume { w.resume(returning: next) }
    }

    /// Sets what eviction does (close the connection).
    public func onEvict(_ handler: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.evict = handler }
    }

    /// Whether frames have been waiting longer than `timeoutMs` at `nowMs`: the writer is stuck.
    public func isStalled(nowMs: Int64, timeoutMs: Int64) -> Bool {
        state.withLockedValue { s in
            guard !s.closed, let since = s.pendingSinceMs, s.overflowed || !s.items.isEmpty else { return false }
            return nowMs - since > timeoutMs
        }
    }

    /// Closes the subscription and its connection.
    public func evict() {
        let handler = state.withLockedValue { $0.evict }
        close()
        handler?()
    }

    /// What is pending, without waiting; nil when nothing is.
    public func tryTake() -> Next? {
        state.withLockedValue { s in
            if s.closed { return .closed }
            if s.overflowed || !s.items.isEmpty { return s.take() }
            return nil
        }
    }

    /// Records that a snapshot at `seq` was written: older deltas are skipped.
    public func delivered(upTo seq: UInt64) {
        state.withLockedValue { s in
            s.deliveredSeq = max(s.deliveredSeq, seq)
            s.items.removeAll { $0.seq != 0 && $0.seq <= s.deliveredSeq }
        }
    }

    /// Ends the subscription; a waiting writer wakes with `.closed`.
    public func close() {
        let w: CheckedContinuation<Next, Never>? = state.withLockedValue { s in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume(returning: .closed)
    }

    public var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Frames waiting to be written (a pending resync counts as one).
    public var pendingCount: Int { state.withLockedValue { $0.items.count + ($0.overflowed ? 1 : 0) } }

    /// Frames dropped by coalescing so far.
    public var droppedFrames: UInt64 { state.withLockedValue { $0.dropped } }

    /// Waits for the next frames (everything pending at once).
    public func next() async -> Next {
        await withCheckedContinuation { (c: CheckedContinuation<Next, Never>) in
            let ready: Next? = state.withLockedValue { s in
                if s.closed { return .closed }
                if s.overflowed || !s.items.isEmpty { return s.take() }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}

extension SubscriberQueue.State {
    mutating func take() -> SubscriberQueue.Next {
        pendingSinceMs = nil
        if overflowed {
            overflowed = false
            return .resync
        }
        let frames = items.map(\.bytes)
        if let last = items.last(where: { $0.seq != 0 }) { deliveredSeq = max(deliveredSeq, last.seq) }
        items.removeAll(keepingCapacity: true)
        return .frames(frames)
    }
}
