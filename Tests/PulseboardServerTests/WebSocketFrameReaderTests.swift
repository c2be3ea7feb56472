import NIOCore
import NIOWebSocket
import Testing
@testable import PulseboardServer

/// Client frames cut from the bytes a WebSocket connection reads, however the bytes are split.
@Suite struct WebSocketFrameReaderTests {
    /// A client frame as RFC 6455 §5.2 lays it out, masked unless told otherwise.
    static func clientFrame(first: UInt8, payload: [UInt8], masked: Bool = true, lengthBytes: Int? = nil) -> [UInt8] {
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        var out = [first]
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch lengthBytes ?? (payload.count < 126 ? 0 : payload.count <= 0xFFFF ? 2 : 8) {
        case 0: out.append(maskBit | UInt8(payload.count))
        case 2:
            out.append(maskBit | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            out.append(maskBit | 127)
            out += (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        if masked {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
        } else {
            out += payload
        }
        return out
    }

    static func read(_ chunks: [[UInt8]], maxFrameSize: Int = 1 << 16) throws(WebSocketFrameReader.Failure) -> [WebSocketFrame] {
        var reader = WebSocketFrameReader(maxFrameSize: maxFrameSize)
        var frames: [WebSocketFrame] = []
        for chunk in chunks {
            reader.append(ByteBuffer(bytes: chunk))
            while let frame = try reader.next() { frames.append(frame) }
        }
        return frames
    }

    @Test func framesComeWholeAtEverySplitPoint() throws {
        let text = Array(#"{"op":"subscribe","dashboard":"wallboard"}"#.utf8)
        let long = [UInt8](repeating: 0x61, count: 300)  // a 16-bit length
        let bytes = Self.clientFrame(first: 0x81, payload: text) + Self.clientFrame(first: 0x89, payload: [1, 2])
            + Self.clientFrame(first: 0x01, payload: long) + Self.clientFrame(first: 0x80, payload: [0x62])
        for split in 0...bytes.count {
            let frames = try Self.read([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(frames.map(\.opcode) == [.text, .ping, .text, .continuation], "split at \(split)")
            #expect(frames.map(\.fin) == [true, true, false, true])
            #expect(String(buffer: frames[0].unmaskedData) == String(decoding: text, as: UTF8.self))
            #expect(Array(frames[1].unmaskedData.readableBytesView) == [1, 2])
            #expect(Array(frames[2].unmaskedData.readableBytesView) == long)
            #expect(Array(frames[3].unmaskedData.readableBytesView) == [0x62])
        }
        // One byte at a time.
        #expect(try Self.read(bytes.map { [$0] }).count == 4)
    }

    @Test func aCompressedMessageKeepsItsRsv1AndA64BitLengthIsRead() throws {
        let frames = try Self.read([Self.clientFrame(first: 0xC1, payload: [9, 8, 7], lengthBytes: 8)])
        #expect(frames.count == 1)
        #expect(frames[0].rsv1 && frames[0].fin && frames[0].opcode == .text)
        #expect(Array(frames[0].unmaskedData.readableBytesView) == [9, 8, 7])
    }

    @Test func badFramesAreRefusedWithTheirReason() {
        let big = [UInt8](repeating: 0, count: 200)
        #expect(throws: WebSocketFrameReader.Failure.tooLarge) {
            try Self.read([Self.clientFrame(first: 0x81, payload: big)], maxFrameSize: 100)
        }
        // Refused from the header alone, before the payload arrives.
        #expect(throws: WebSocketFrameReader.Failure.tooLarge) {
            try Self.read([Array(Self.clientFrame(first: 0x81, payload: big, lengthBytes: 8).prefix(10))], maxFrameSize: 100)
        }
        #expect(throws: WebSocketFrameReader.Failure.protocolError("client frames must be masked")) {
            try Self.read([Self.clientFrame(first: 0x81, payload: [1], masked: false)])
        }
        #expect(throws: WebSocketFrameReader.Failure.protocolError("fragmented control frame")) {
            try Self.read([Self.clientFrame(first: 0x09, payload: [])])
        }
        #expect(throws: WebSocketFrameReader.Failure.protocolError("control frame over 125 bytes")) {
            try Self.read([Self.clientFrame(first: 0x89, payload: [UInt8](repeating: 1, count: 126))])
        }
    }
}
