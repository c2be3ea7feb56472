import NIOCore
import PulseboardEngine
import Synchronization

/// A subscriber that only counts what it is handed: the frames and their bytes in its
/// encoding, as a transport would look them up before writing (no socket, no copy).
final class CountingSubscriber: PushSubscriber {
    let eventLoop: any EventLoop
    let encoding: PushEncoding
    private let frames = Atomic<Int>(0)
    private let bytes = Atomic<Int>(0)

    init(eventLoop: any EventLoop, encoding: PushEncoding) {
        self.eventLoop = eventLoop
        self.encoding = encoding
    }

    func deliver(_ frame: EncodedFrame, seq: UInt64) {
        frames.wrappingAdd(1, ordering: .relaxed)
        bytes.wrappingAdd(frame.bytes(for: encoding).readableBytes, ordering: .relaxed)
    }

    func topicEnded() {}

    /// Frames delivered so far.
    var framesReceived: Int { frames.load(ordering: .relaxed) }
    /// Bytes of those frames in this subscriber's encoding.
    var bytesReceived: Int { bytes.load(ordering: .relaxed) }
}
