import Foundation
import NIOCore
import PulseboardEngine
import Testing
@testable import PulseboardBench

/// The fan-out client's parsers, fed what the server writes, split at every byte boundary.
@Suite struct FanoutParserTests {
    /// Everything `parser` emits for `bytes` fed in pieces of `step` bytes.
    func outputs(_ transport: FanoutStreamParser.Transport, _ bytes: [UInt8], step: Int) -> [String] {
        var parser = FanoutStreamParser(transport: transport)
        var out: [String] = []
        var i = 0
        while i < bytes.count {
            let piece = Array(bytes[i..<min(bytes.count, i + step)])
            piece.withUnsafeBytes { raw in
                parser.feed(raw) { o in
                    switch o {
                    case .head(let status): out.append("head \(status)")
                    case .message(let event, let payload): out.append("\(String(decoding: event, as: UTF8.self)) \(String(decoding: payload, as: UTF8.self))")
                    case .ping: out.append("ping")
                    case .close: out.append("close")
                    case .end(let reason): out.append("end \(reason)")
                    }
                }
            }
            i += step
        }
        return out
    }

    @Test(arguments: [1, 2, 7, 4096])
    func sseInChunksIsParsedWhateverTheSplit(step: Int) {
        var bytes = Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        for b in [
            PushWire.chunk(ByteBuffer(string: "retry: 3000\n\n")),
            PushWire.sseEvent(id: 7, event: "snapshot", json: Array(#"{"seq":7,"ts":"2026-11-22T01:51:38.438Z"}"#.utf8)),
            PushWire.chunk(ByteBuffer(string: ": heartbeat\n\n")),
            PushWire.sseEvent(id: 8, event: "delta", json: Array(#"{"seq":8}"#.utf8)),
        ] { bytes += Array(b.readableBytesView) }
        #expect(outputs(.sse, bytes, step: step) == [
            "head 200", #"snapshot {"seq":7,"ts":"2026-11-22T01:51:38.438Z"}"#, #"delta {"seq":8}"#,
        ])
    }

    @Test(arguments: [1, 3, 4096])
    func webSocketFramesOfEveryLengthAreParsed(step: Int) {
        var bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
        let long = #"{"type":"delta","seq":9,"pad":""# + String(repeating: "x", count: 70_000) + #""}"#
        for b in [
            PushWire.webSocketFrame(.text, payload: Array(#"{"type":"snapshot","seq":1}"#.utf8)),
            PushWire.webSocketFrame(.ping, payload: [UInt8]()),
            PushWire.webSocketFrame(.text, payload: Array(String(repeating: "y", count: 300).utf8)),
            PushWire.webSocketFrame(.text, payload: Array(long.utf8)),
            PushWire.webSocketFrame(.close, payload: [0x03, 0xE9]),
        ] { bytes += Array(b.readableBytesView) }
        let out = outputs(.webSocket, bytes, step: step)
        #expect(out.first == "head 101")
        #expect(out.dropFirst().first == #" {"type":"snapshot","seq":1}"#)
        #expect(out.contains("ping"))
        #expect(out.filter { $0.hasPrefix(" ") }.count == 3)
        #expect(out.last == "close")
    }

    @Test func stampsReadSeqAndTimestamp() throws {
        let delta = try #require(FanoutFrameStamp.parse(event: Array("delta".utf8)[...], payload: Array(#"{"seq":42,"ts":"2026-11-22T01:51:38.438Z","widgets":{}}"#.utf8)[...]))
        #expect(delta.kind == .frame)
        #expect(delta.key == 42)
        #expect(delta.timestampMicros == 1_795_312_298_438_000)  // python: datetime(2026,11,22,1,51,38,438000,utc).timestamp()
        let snapshot = try #require(FanoutFrameStamp.parse(event: [][...], payload: Array(#"{"type":"snapshot","dashboard":"w","seq":5,"ts":"2026-11-22T01:51:38.438Z"}"#.utf8)[...]))
        #expect(snapshot.kind == .snapshot)
        #expect(FanoutFrameStamp.parse(event: [][...], payload: Array(#"{"type":"error","code":"x"}"#.utf8)[...])?.kind == .error)
    }
}
