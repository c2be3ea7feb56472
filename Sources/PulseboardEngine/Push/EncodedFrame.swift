import NIOCore

/// How a subscriber reads frames: the bytes differ per transport, never per subscriber.
public enum PushEncoding: Sendable {
    /// Server-Sent Events in HTTP/1.1 chunked framing.
    case sse
    /// A WebSocket text frame.
    case webSocket
    /// A WebSocket text frame compressed with permessage-deflate (no context takeover).
    case webSocketDeflate
}

/// A frame encoded once per transport; every subscriber of that transport writes the same
/// bytes (a `ByteBuffer` shares its storage), so fan-out costs no encoding per subscriber.
public struct EncodedFrame: Sendable {
    /// `id: …\nevent: …\ndata: …\n\n` as one HTTP chunk.
    public var sse: ByteBuffer
    /// A complete WebSocket text frame (header included, unmasked as servers send).
    public var ws: ByteBuffer
    /// The same frame compressed, when a subscriber of the topic negotiated permessage-deflate.
    public var wsDeflate: ByteBuffer?

    public init(sse: ByteBuffer, ws: ByteBuffer, wsDeflate: ByteBuffer? = nil) {
        self.sse = sse
        self.ws = ws
        self.wsDeflate = wsDeflate
    }

    /// The bytes for `encoding`.
    @inline(__always) public func bytes(for encoding: PushEncoding) -> ByteBuffer {
        switch encoding {
        case .sse: sse
        case .webSocket: ws
        case .webSocketDeflate: wsDeflate ?? ws
        }
    }
}

/// Wire framing shared by the hub and the transports.
public enum PushWire {
    /// One SSE event as an HTTP/1.1 chunk. Without an `id` (alerts) it does not move the
    /// client's `Last-Event-ID`.
    public static func sseEvent(id: UInt64? = nil, event: String, json: [UInt8]) -> ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(json.count + 48)
        if let id { body.writeString("id: \(id)\n") }
        body.writeString("event: \(event)\ndata: ")
        body.writeBytes(json)
        body.writeString("\n\n")
        return chunk(body)
    }

    /// `bytes` as one HTTP/1.1 chunk (`size CRLF bytes CRLF`).
    public static func chunk(_ bytes: ByteBuffer) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(bytes.readableBytes + 12)
        out.writeString(String(bytes.readableBytes, radix: 16))
        out.writeStaticString("\r\n")
        out.writeImmutableBuffer(bytes)
        out.writeStaticString("\r\n")
        return out
    }

    /// The bytes inside one chunk written by `chunk` (a slice, no copy), for writers that do
    /// their own chunked framing.
    public static func unchunk(_ chunk: ByteBuffer) -> ByteBuffer {
        guard let end = chunk.readableBytesView.firstIndex(of: UInt8(ascii: "\r")) else { return chunk }
        let start = end + 2 - chunk.readerIndex
        let length = chunk.readableBytes - start - 2
        return chunk.getSlice(at: chunk.readerIndex + start, length: max(0, length)) ?? chunk
    }

    /// `retry: 3000` (the reconnect delay browsers use) as an HTTP chunk: a stream's first bytes.
    public static let sseRetry = chunk(ByteBuffer(string: "retry: 3000\n\n"))

    /// `: heartbeat` as an HTTP chunk: keeps a quiet stream open.
    public static let sseHeartbeat = chunk(ByteBuffer(string: ": heartbeat\n\n"))

    /// The last chunk: the SSE response ends cleanly.
    public static let lastChunk = ByteBuffer(string: "0\r\n\r\n")

    /// WebSocket opcodes the server writes.
    public enum Opcode: UInt8, Sendable {
        case text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA
    }

    /// A complete server-to-client WebSocket frame (FIN set, unmasked).
    public static func webSocketFrame(_ opcode: Opcode, payload: some Collection<UInt8>, compressed: Bool = false) -> ByteBuffer {
        let n = payload.count
        var out = ByteBuffer()
        out.reserveCapacity(n + 10)
        out.writeInteger(UInt8(0x80 | (compressed ? 0x40 : 0) | opcode.rawValue))
        if n < 126 {
            out.writeInteger(UInt8(n))
        } else if n <= 0xFFFF {
            out.writeInteger(UInt8(126))
            out.writeInteger(UInt16(n))
        } else {
            out.writeInteger(UInt8(127))
            out.writeInteger(UInt64(n))
        }
        out.writeBytes(payload)
        return out
    }
}
