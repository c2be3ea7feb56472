import Foundation
import NIOCore
import PulseboardCore

#if canImport(Glibc)
import Glibc
#endif

/// A minimal streaming HTTP/1.1 client for SSE tests: a blocking socket read on its own
/// thread (never on the cooperative pool), chunked decoding, event parsing.
final class SSEClient: @unchecked Sendable {
    // @unchecked: `fd` is immutable; `buffer`/`body` are only touched by one read at a time.
    struct Event {
        var id: UInt64?
        var event: String
        var data: JSONValue?
    }

    let fd: Int32
    var raw: [UInt8] = []
    var body: [UInt8] = []
    var headersDone = false
    var status = 0
    var pending: [Event] = []

    /// A TCP connection to 127.0.0.1:`port` whose reads time out every 100 ms.
    static func connectSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let ok = address.withSockAddr { connect(fd, $0, socklen_t($1)) }
        guard ok == 0 else {
            _ = Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    init(port: Int, path: String, headers: [String: String] = [:]) throws {
        fd = try SSEClient.connectSocket(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
    }

    func close() { _ = Glibc.close(fd) }

    /// Reads until `count` events (comments excluded) have arrived or `timeout` passes.
    func events(_ count: Int, timeout: Double = 10) async -> [Event] {
        await withCheckedContinuation { (c: CheckedContinuation<[Event], Never>) in
            let t = Thread { c.resume(returning: self.read(count, timeout: timeout)) }
            t.start()
        }
    }

    private func read(_ count: Int, timeout: Double) -> [Event] {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while pending.count < count && Date() < deadline {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 { raw += chunk[0..<n]; decode() } else if n == 0 { break }
        }
        let out = Array(pending.prefix(count))
        pending.removeFirst(out.count)
        return out
    }

    private func decode() {
        if !headersDone {
            guard let end = find([13, 10, 13, 10], in: raw) else { return }
            let head = String(decoding: raw[0..<end], as: UTF8.self)
            status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            raw.removeFirst(end + 4)
            headersDone = true
        }
        // Chunked transfer encoding: <hex size>\r\n<data>\r\n
        while let lineEnd = find([13, 10], in: raw) {
            let size = Int(String(decoding: raw[0..<lineEnd], as: UTF8.self), radix: 16) ?? 0
            guard raw.count >= lineEnd + 2 + size + 2 else { break }
            body += raw[(lineEnd + 2)..<(lineEnd + 2 + size)]
            raw.removeFirst(lineEnd + 2 + size + 2)
        }
        while let end = find([10, 10], in: body) {
            pending += SSEClient.parse(String(decoding: body[0..<(end + 2)], as: UTF8.self))
            body.removeFirst(end + 2)
        }
    }

    /// The events (with data; comments skipped) of complete SSE text.
    static func parse(_ text: String) -> [Event] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var e = Event(id: nil, event: "message", data: nil)
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { e.id = UInt64(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { e.event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { e.data = try? JSONValue.parse(String(line.dropFirst(6))) }
            }
            return e.data == nil ? nil : e
        }
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }
}
