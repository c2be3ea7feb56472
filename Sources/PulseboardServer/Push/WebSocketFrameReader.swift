import NIOCore
import NIOWebSocket

/// Cuts client frames (RFC 6455 §5.2) out of the bytes a WebSocket connection reads. It does
/// the work of NIO's `ByteToMessageHandler(WebSocketFrameDecoder)` inside the connection's own
/// handler, so the pipeline holds one handler: an idle subscriber keeps less memory, and each
/// delivery goes from the connection's context straight to the socket.
struct WebSocketFrameReader {
    /// Why the bytes are not a frame the server accepts; each maps to a close code.
    enum Failure: Error, Equatable {
        /// A frame over `maxFrameSize` bytes (close code 1009).
        case tooLarge
        /// A malformed frame (close code 1002), with the reason for the close frame.
        case protocolError(String)
    }

    let maxFrameSize: Int
    /// Bytes read and not yet part of a whole frame.
    var buffer: ByteBuffer?

    init(maxFrameSize: Int) { self.maxFrameSize = maxFrameSize }

    /// Adds bytes read from the socket.
    mutating func append(_ bytes: ByteBuffer) {
        if buffer == nil {
            buffer = bytes
        } else {
            buffer!.writeImmutableBuffer(bytes)
        }
    }

    /// The next whole frame, or nil until more bytes arrive.
    mutating func next() throws(Failure) -> WebSocketFrame? {
        guard var b = buffer else { return nil }
        guard let first = b.readInteger(as: UInt8.self), let second = b.readInteger(as: UInt8.self) else { return nil }
        var length = UInt64(second & 0x7F)
        if length == 126 {
            guard let extended = b.readInteger(as: UInt16.self) else { return nil }
            length = UInt64(extended)
        } else if length == 127 {
            guard let extended = b.readInteger(as: UInt64.self) else { return nil }
            length = extended
        }
        guard length <= UInt64(maxFrameSize) else { throw .tooLarge }
        let opcode = first & 0x0F
        if opcode & 0x08 != 0 {
            guard first & 0x80 != 0 else { throw .protocolError("fragmented control frame") }
            guard length <= 125 else { throw .protocolError("control frame over 125 bytes") }
        }
        guard second & 0x80 != 0 else { throw .protocolError("client frames must be masked") }
        guard let key = b.readBytes(length: 4), let data = b.readSlice(length: Int(length)) else { return nil }
        buffer = b.readableBytes > 0 ? b : nil
        return WebSocketFrame(
            fin: first & 0x80 != 0, rsv1: first & 0x40 != 0, rsv2: first & 0x20 != 0, rsv3: first & 0x10 != 0,
            opcode: WebSocketOpcode(encodedWebSocketOpcode: opcode)!, maskKey: WebSocketMaskingKey(key), data: data)
    }
}
