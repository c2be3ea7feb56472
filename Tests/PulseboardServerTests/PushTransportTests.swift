import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

/// The raw-NIO transports alone: handshake, and an SSE connection on an `EmbeddedChannel`
/// whose writability the test controls.
@Suite struct PushTransportTests {
    @Test func webSocketAcceptIsRFC6455s() {
        #expect(WebSocketHandshake.acceptValue(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(SHA1.hash([]).map { String(format: "%02x", $0) }.joined() == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test(arguments: [
        ("permessage-deflate; client_max_window_bits", true),
        ("permessage-deflate", true),
        ("x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=15", true),
        ("permessage-deflate; server_max_window_bits=10", false),
        ("permessage-deflate; server_max_window_bits=10, permessage-deflate", true),
        ("", false),
    ])
    func deflateIsTakenWhenTheFullWindowIsAllowed(offer: String, accepted: Bool) {
        #expect(WebSocketHandshake.acceptsDeflate(offer) == accepted)
    }

    @Test(arguments: [
        ("GET /api/stream/engagement HTTP/1.1", true), ("GET /ws HTTP/1.1", true), ("GET /ws?key=k HTTP/1.1", true),
        ("GET /wsx HTTP/1.1", false), ("POST /api/stream/x HTTP/1.1", false), ("GET /api/dashboards HTTP/1.1", false),
    ])
    func streamRequestsAreRecognisedByTheirRequestLine(line: String, stream: Bool) {
        #expect(PushRequestHead.isStreamRequestLine(ByteBuffer(string: line).readableBytesView) == stream)
    }

    @Test func requestHeadsParseQueryAndHeaders() throws {
        let head = try #require(PushRequestHead(Array("GET /api/stream/eng%20x?org_id=a%26b&since=5 HTTP/1.1\r\nHost: h\r\nLast-Event-ID: 7\r\nX-A: 1\r\nx-a: 2".utf8)))
        #expect(head.method == "GET")
        #expect(head.path == "/api/stream/eng x")
        #expect(head.queryValue("org_id") == "a&b")
        #expect(head.queryValue("since") == "5")
        #expect(head.headers["last-event-id"] == "7")
        #expect(head.headers["x-a"] == "1, 2")
        #expect(PushRequestHead(Array("GARBAGE".utf8)) == nil)
    }

    @Test(arguments: [
        "GET /x HTTP/1.1 extra", "GET  /x HTTP/1.1", "GET /x", "GET /x SPDY/3", " /x HTTP/1.1", "GET /x HTTP/1.1\r\nno colon here",
    ])
    func malformedHeadsAreRefused(_ text: String) {
        #expect(PushRequestHead(Array(text.utf8)) == nil)
    }

    @Test func queryValuesAreDecodedOnceAndOddOnesKeptAsSent() throws {
        let head = try #require(PushRequestHead(Array("GET /q?a=%2541&b&c=&d=50%&e=%E2%82%AC&f=%FF&%6B=v HTTP/1.0\r\nConnection: Keep-Alive".utf8)))
        #expect(head.queryValue("a") == "%41")  // one decoding, not two
        #expect(head.queryValue("b") == "")
        #expect(head.queryValue("c") == "")
        #expect(head.queryValue("d") == "50%")  // a broken escape stays as sent
        #expect(head.queryValue("e") == "€")
        #expect(head.queryValue("f") == "%FF")  // not UTF-8 once decoded
        #expect(head.queryValue("k") == "v")
        #expect(head.version == "HTTP/1.0")
        #expect(LiveQueryEndpoint.keepsAlive(head))
        #expect(PushRequestHead([0x47, 0x45, 0x54, 0x20, 0xC3, 0x28, 0x20] + Array("HTTP/1.1".utf8)) == nil)  // not UTF-8

        let close = try #require(PushRequestHead(Array("GET /q HTTP/1.1\r\nConnection: Upgrade, CLOSE".utf8)))
        #expect(!LiveQueryEndpoint.keepsAlive(close))
        let plain = try #require(PushRequestHead(Array("GET /q HTTP/1.1\r\nHost: x".utf8)))
        #expect(LiveQueryEndpoint.keepsAlive(plain))
        #expect(plain.path == "/q" && plain.query.isEmpty)
    }

    /// A hub over a fresh journal and a manual clock, with the shipped dashboards.
    struct Fixture {
        let clock = ManualClock(millis: 1_790_000_000_000)
        let telemetry = Telemetry()
        let ingestor: Ingestor
        let hub: Hub
        let spec: DashboardSpec
        let dir = NSTemporaryDirectory() + "pulseboard-push-\(UUID().uuidString)"

        init() throws {
            let journal = try Journal(directory: dir, configuration: JournalConfiguration(), telemetry: telemetry, logger: quietLogger)
            ingestor = Ingestor(
                configuration: IngestConfiguration(), aggregation: Aggregator.Configuration(), journal: journal,
                telemetry: telemetry, clock: clock, logger: quietLogger)
            _ = try ingestor.replay(journal.previousSegments)
            ingestor.markReady()
            hub = Hub(configuration: PushConfiguration(), ingestor: ingestor, telemetry: telemetry)
            let store = DashboardStore(directory: DashboardEndpointTests.dashboards, dimensions: Aggregator.Configuration().dimensions, logger: quietLogger)
            store.load()
            spec = try #require(store.entry("wallboard")?.spec)
        }

        /// One more event a second later, and a tick.
        func step(_ i: Int) throws {
            clock.advance(byMillis: 1000)
            let body = #"{"events":[{"event_type":"page_view"}],"context":{"user_id":"u\#(i)"}}"#
            _ = try ingestor.ingest(Array(body.utf8), format: .json)
            hub.tick()
        }
    }

    /// Everything the channel wrote, as one client would parse it.
    func written(_ channel: EmbeddedChannel) throws -> [SSEClient.Event] {
        var text = ""
        while let b = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: PushWire.unchunk(b)) }
        return SSEClient.parse(text)
    }

    @Test func aFullSocketCoalescesIntoOneSnapshotAndAStuckOneIsEvicted() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        let connection = SSEConnection(hub: f.hub, telemetry: f.telemetry, eventLoop: channel.embeddedEventLoop)
        try channel.pipeline.syncOperations.addHandler(connection)
        #expect(f.hub.openStream())
        let subscribed = try f.hub.subscribe(spec: f.spec, variables: [:], since: nil, subscriber: connection)
        connection.start(key: subscribed.key, seq: subscribed.seq, head: ByteBuffer(), initial: subscribed.initial)
        var frame = JSONValue.null
        func receive() throws {
            for e in try written(channel) {
                if e.event == "snapshot", let d = e.data { frame = d }
                if e.event == "delta", let d = e.data { frame = JSONMergePatch.apply(d, to: frame) }
            }
        }
        try receive()
        #expect(frame["seq"]?.number == Double(subscribed.seq))

        // Writable: each delta is written as it comes.
        try f.step(1)
        channel.embeddedEventLoop.run()
        try receive()
        #expect(frame == f.hub.frame(key: subscribed.key))

        // Unwritable: deltas are dropped, then one snapshot when the socket drains.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        for i in 2..<6 { try f.step(i) }
        channel.embeddedEventLoop.run()
        #expect(try written(channel).isEmpty)
        #expect(f.telemetry.framesCoalesced.value >= 3)
        channel.isWritable = true
        channel.pipeline.fireChannelWritabilityChanged()
        let resync = try written(channel)
        #expect(resync.map(\.event) == ["snapshot"])
        frame = try #require(resync.first?.data)
        #expect(frame == f.hub.frame(key: subscribed.key))
        // And deltas follow it again.
        try f.step(6)
        channel.embeddedEventLoop.run()
        try receive()
        #expect(frame == f.hub.frame(key: subscribed.key))

        // Unwritable for longer than push.unwritable_timeout_seconds: disconnected.
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        for i in 7..<40 {
            try f.step(i)
            channel.embeddedEventLoop.run()
            // Unwritable since step 6: cut off past 30 s, not before.
            #expect(channel.isActive == (i - 6 <= 30), "\(i - 6) s unwritable")
        }
        #expect(f.telemetry.subscribersEvicted.value == 1)
        #expect(f.hub.counts().subscribers == 0)
        #expect(f.hub.openStreams == 0)
    }

    @Test func aWebSocketThatStopsAnsweringPingsIsClosedAndOneThatAnswersIsKept() throws {
        let f = try Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let store = DashboardStore(directory: DashboardEndpointTests.dashboards, dimensions: Aggregator.Configuration().dimensions, logger: quietLogger)
        store.load()
        let endpoints = PushEndpoints(
            hub: f.hub, store: store, authorizer: Authorizer(keys: []), telemetry: f.telemetry, corsOrigins: [], maxConnections: 10)
        func open() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel()
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            #expect(f.hub.openStream())
            try channel.pipeline.syncOperations.addHandler(
                WebSocketConnection(endpoints: endpoints, eventLoop: channel.embeddedEventLoop, encoding: .webSocket))
            return channel
        }
        let silent = try open()
        let answering = try open()
        var pings = 0
        for second in 1...70 {
            f.clock.advance(byMillis: 1000)
            f.hub.tick()
            silent.embeddedEventLoop.run()
            answering.embeddedEventLoop.run()
            while let b = try answering.readOutbound(as: ByteBuffer.self) {
                guard b.getInteger(at: b.readerIndex, as: UInt8.self) == 0x89 else { continue }  // FIN + ping
                pings += 1
                try answering.writeInbound(ByteBuffer(bytes: [0x8A, 0x80, 0x01, 0x02, 0x03, 0x04]))  // masked, empty pong
            }
            // Pinged every 30 s, closed once nothing has come for 60 s.
            #expect(silent.isActive == (second <= 60), "second \(second)")
        }
        #expect(pings == 2)
        #expect(answering.isActive)
        #expect(f.telemetry.webSocketsTimedOut.value == 1)
        #expect(f.hub.openStreams == 1)
    }
}
