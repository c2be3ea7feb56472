import NIOCore
import Testing
@testable import PulseboardEngine

/// Client messages under permessage-deflate: what inflates, what is too large once inflated
/// (close 1009, like an uncompressed message over the limit) and what is corrupt (close 1007).
@Suite struct InflaterTests {
    static func compressed(_ text: String) -> ByteBuffer {
        ByteBuffer(bytes: Deflater().compress(Array(text.utf8)))
    }

    @Test func aMessageInflatesToItsBytes() {
        let message = #"{"op":"subscribe","dashboard":"wallboard"}"#
        #expect(Inflater.inflate(InflaterTests.compressed(message), maxBytes: 65_536) == .bytes(Array(message.utf8)))
    }

    @Test func aMessageLargerThanTheLimitOnceInflatedIsTooLarge() {
        // 70,000 bytes that compress to a few hundred: small on the wire, too large inflated.
        let big = #"{"op":"ping","pad":""# + String(repeating: "a", count: 70_000) + #""}"#
        let payload = InflaterTests.compressed(big)
        #expect(payload.readableBytes < 1_000)
        #expect(Inflater.inflate(payload, maxBytes: 65_536) == .tooLarge)
        #expect(Inflater.inflate(payload, maxBytes: 100_000) == .bytes(Array(big.utf8)))
    }

    @Test func bytesThatAreNotDeflateAreCorrupt() {
        #expect(Inflater.inflate(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x12]), maxBytes: 65_536) == .corrupt)
    }
}
