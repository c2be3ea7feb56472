import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// A frame encoded once per transport; every subscriber of that transport shares the bytes.
public struct EncodedFrame: Sendable {
    /// `id: …\nevent: …\ndata: …\n\n`
    public var sse: ByteBuffer
    /// `{"type": "delta" | "snapshot", "dashboard": …, …}`
    public var ws: ByteBuffer

    public init(sse: ByteBuffer, ws: ByteBuffer) {
        self.sse = sse
        self.ws = ws
    }
}

/// The wire format a subscriber reads.
public enum PushTransport: Sendable {
    case sse, webSocket
}

/// One subscriber's bounded queue of pre-encoded frames. The hub pushes without ever waiting;
/// the subscriber's writer drains at its own pace. When the queue fills, its pending deltas are
/// dropped and the writer is told to resynchronise with one fresh snapshot (coalescing), so a
/// slow reader costs bounded memory and never delays anyone else.
public final class SubscriberQueue: Sendable {
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
    }

    public let capacity: Int
    public let transport: PushTransport
    /// Called (instead of waking `next()`) when frames arrive: a connection that multiplexes
    /// several subscriptions drains them all from one writer.
    let notify: (@Sendable () -> Void)?
    let state: NIOLockedValueBox<State>

    public init(capacity: Int, transport: PushTransport = .sse, notify: (@Sendable () -> Void)? = nil) {
        self.capacity = max(1, capacity)
        self.transport = transport
        self.notify = notify
        self.state = NIOLockedValueBox(State())
    }

    /// Queues the transport's encoding of `frame`.
    public func push(_ frame: EncodedFrame, seq: UInt64, nowMs: Int64 = 0) {
        push(transport == .sse ? frame.sse : frame.ws, seq: seq, nowMs: nowMs)
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
        notify?()
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
        notify?()
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
