import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOEmbedded
import NIOPosix
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

/// Direct socket writes (`PushSocket`) on real TCP connections: the descriptor is found and
/// confirmed, and a stream that fills its socket, goes through NIO's queue, is coalesced and
/// drains again still reaches the client as one well-formed stream.
@Suite(.timeLimit(.minutes(2))) struct PushSocketTests {
    @Test func theDescriptorIsFoundOnlyForARealSocket() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let found = LockedList<CInt>()
        let server = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                found.append(PushSocket.descriptor(of: channel))
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try ClientBootstrap(group: group).connect(to: try #require(server.localAddress)).wait()
        defer { try? client.close().wait() }
        for _ in 0..<200 where found.first == nil { usleep(10_000) }
        let fd = try #require(found.first)
        #expect(fd >= 0)
        // The number names the server side of this connection: its peer is the client.
        #expect(PushSocket.descriptor(of: client) >= 0)
        #expect(PushSocket.descriptor(of: client) != fd)
        #expect(PushSocket.descriptor(of: EmbeddedChannel()) == -1)
    }

    @Test func aStreamThatFillsItsSocketIsCoalescedAndStaysWellFormed() throws {
        let f = try PushTransportTests.Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let connections = LockedList<SSEConnection>()
        let (hub, telemetry, spec) = (f.hub, f.telemetry, f.spec)
        let server = try ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.so_sndbuf), value: 4096)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 512, high: 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = SSEConnection(hub: hub, telemetry: telemetry, eventLoop: channel.eventLoop)
                    try channel.pipeline.syncOperations.addHandler(connection)
                    _ = hub.openStream()
                    let subscribed = try hub.subscribe(spec: spec, variables: [:], since: nil, subscriber: connection)
                    let head = ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
                    connection.start(key: subscribed.key, seq: subscribed.seq, head: head, initial: subscribed.initial)
                    connections.append(connection)
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }

        // A client with a small receive buffer that does not read at first.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { _ = Glibc.close(fd) }
        var small: CInt = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<CInt>.size))
        let connected = try #require(server.localAddress).withSockAddr { connect(fd, $0, socklen_t($1)) }
        #expect(connected == 0)
        for _ in 0..<200 where connections.first == nil { usleep(10_000) }
        let connection = try #require(connections.first)
        #expect(try loop.submit { connection.socket.descriptor }.wait() >= 0, "the shortcut is on for a TCP connection")

        var received: [UInt8] = []
        func read(for seconds: Double) {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n > 0 { received += chunk[0..<n] } else { usleep(1000) }
            }
        }
        var step = 0
        func tick() throws {
            step += 1
            try f.step(step)
            try loop.submit {}.wait()  // the deliveries the tick queued on the loop
        }

        // Deltas until the socket is full and NIO's queue passes its high-water mark.
        while telemetry.framesCoalesced.value == 0 && step < 3000 { try tick() }
        #expect(telemetry.framesCoalesced.value > 0, "the socket never filled")
        // The client empties its buffer while the loop is busy, so NIO has not yet seen the
        // socket drain and still holds bytes: a write now must go behind them, not past them
        // (a partial chunk, or whole deltas that must come first).
        let (queuedBeforeWrite, seqBeforeMarker, drained) = try loop.submit {
            var chunk = [UInt8](repeating: 0, count: 65536)
            var drained: [UInt8] = []
            for _ in 0..<50 {
                while case let n = recv(fd, &chunk, chunk.count, Int32(MSG_DONTWAIT)), n > 0 { drained += chunk[0..<n] }
                usleep(1000)
            }
            let queued = connection.socket.queued
            // An SSE comment: it must reach the client after the last delta written before it.
            connection.send(PushWire.chunk(ByteBuffer(string: ": marker\n\n")))
            return (queued, connection.state.deliveredSeq, drained)
        }.wait()
        received += drained
        #expect(queuedBeforeWrite > 0)
        // The client reads again: what NIO queued drains, a snapshot follows, then direct deltas.
        for _ in 0..<20 {
            try tick()
            read(for: 0.02)
        }
        #expect(try loop.submit { connection.socket.queued }.wait() == 0, "NIO drained")
        for _ in 0..<5 {
            try tick()
            read(for: 0.02)
        }
        read(for: 0.2)

        // One well-formed response: the head, then whole chunks, each holding whole events.
        let headEnd = try #require(received.indices.first { received[$0...].starts(with: [13, 10, 13, 10]) })
        var at = headEnd + 4
        var body: [UInt8] = []
        while at < received.count {
            let lineEnd = try #require(received[at...].indices.first { received[$0...].starts(with: [13, 10]) })
            let size = try #require(Int(String(decoding: received[at..<lineEnd], as: UTF8.self), radix: 16), "chunk size at \(at)")
            #expect(received.count >= lineEnd + 2 + size + 2, "a whole chunk")
            body += received[(lineEnd + 2)..<(lineEnd + 2 + size)]
            #expect(Array(received[(lineEnd + 2 + size)..<(lineEnd + 4 + size)]) == [13, 10])
            at = lineEnd + 4 + size
        }
        let text = String(decoding: body, as: UTF8.self)
        let marker = try #require(text.range(of: ": marker\n\n"), "the marker arrived")
        let lastBefore = try #require(text.range(of: "id: \(seqBeforeMarker)\n"), "the delta before the marker arrived")
        #expect(lastBefore.upperBound <= marker.lowerBound, "written after the bytes NIO held, not past them")
        let events = SSEClient.parse(text)
        #expect(events.filter { $0.event == "snapshot" }.count >= 2, "a resync snapshot after the drain")
        var frame = JSONValue.null
        var lastId: UInt64 = 0
        for e in events {
            let id = try #require(e.id)
            #expect(id > lastId, "ids only grow")
            lastId = id
            if e.event == "snapshot" { frame = e.data! } else { frame = JSONMergePatch.apply(e.data!, to: frame) }
        }
        #expect(frame == f.hub.frame(key: try loop.submit { connection.key }.wait()))
        #expect(telemetry.subscribersEvicted.value == 0)
    }
}

/// A list filled on an event loop and read by the test.
final class LockedList<Element>: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private var items: [Element] = []

    func append(_ item: Element) { lock.withLock { items.append(item) } }
    var first: Element? { lock.withLock { items.first } }
}
