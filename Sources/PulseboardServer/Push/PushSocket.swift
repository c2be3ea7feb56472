#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// The socket under a push connection, written with one `send(2)` when NIO holds nothing for it.
///
/// A delivery touches a connection once a second, so everything it touches is cold: NIO's write
/// path (context, pipeline head, channel, pending-writes queue and its promise bookkeeping)
/// costs more cache misses and reference counting than the system call itself. So a write goes
/// straight to the socket while NIO has nothing queued for it. A short write, a full socket or
/// an error hands the rest to NIO, which queues it, waits for the socket to drain, applies the
/// write-buffer watermarks (the channel turns unwritable and deltas are coalesced) and reports
/// errors and closes exactly as before. Until every byte handed to NIO is written, later bytes
/// follow them through NIO, so the order on the wire is kept.
///
/// Loop-confined like its connection. The descriptor is only used before the channel goes
/// inactive (`PushStreamHandler.ended`): NIO closes it inside `close0`, whose only call-outs
/// into user code before `channelInactive` are write-promise callbacks, `errorCaught` and a
/// writability change, and none of those takes the shortcut (`PushSocket`'s callbacks only
/// count, the handlers close, and the snapshot after a drain goes through NIO).
struct PushSocket {
    /// The connection's socket, or -1 when it could not be confirmed (every write goes through NIO).
    let descriptor: CInt
    /// Writes handed to NIO that have not completed yet.
    private(set) var queued = 0

    init(descriptor: CInt) { self.descriptor = descriptor }

    /// The socket of `channel` when direct writes are `enabled` (`push.direct_writes`) and its
    /// descriptor is confirmed; otherwise every write goes through NIO.
    init(channel: any Channel, enabled: Bool) {
        self.init(descriptor: enabled ? PushSocket.descriptor(of: channel) : -1)
    }

    /// Writes `bytes` to the socket now when nothing is queued in NIO. Returns how many bytes
    /// went out: all of them, or fewer (none when the shortcut is off, the socket is full or
    /// failed), and then the caller hands the rest to NIO. An error is left for NIO's own write
    /// to meet, so the channel closes the way it always does.
    @inline(__always)
    func sendNow(_ bytes: ByteBuffer) -> Int {
        guard descriptor >= 0, queued == 0 else { return 0 }
        let sent = bytes.withUnsafeReadableBytes { raw in
            send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        return max(sent, 0)
    }

    /// A write handed to NIO; `completed` must be called when its promise completes.
    mutating func handedToNIO() { queued += 1 }

    /// A write handed to NIO has completed (written or failed).
    mutating func completed() { queued -= 1 }

    /// The descriptor of `channel`'s socket, confirmed by the socket's own addresses, or -1.
    ///
    /// NIO has no public accessor for a socket channel's descriptor; its description names it
    /// (`SocketChannel { BaseSocket { fd=12 }, … }`). The number is trusted only when the socket
    /// behind it has the channel's local and remote addresses, so a different description
    /// format costs the shortcut, never a write to the wrong socket. Call on the channel's loop
    /// while it is active.
    static func descriptor(of channel: any Channel) -> CInt {
        let text = Array(String(describing: channel).utf8)
        let marker = Array("fd=".utf8)
        guard let at = text.indices.first(where: { text[$0...].starts(with: marker) }) else { return -1 }
        let digits = text[(at + marker.count)...].prefix(while: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        guard let fd = CInt(String(decoding: digits, as: UTF8.self)), fd >= 0,
            let local = channel.localAddress, let remote = channel.remoteAddress,
            sameAddress(local, fd: fd, peer: false), sameAddress(remote, fd: fd, peer: true)
        else { return -1 }
        var type: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == CInt(SOCK_STREAM.rawValue) else { return -1 }
        return fd
    }

    /// Whether the socket `fd`'s own (or, with `peer`, its peer's) address is `address`:
    /// the same family, port and IP address (IPv4 or IPv6; other families are never the same).
    private static func sameAddress(_ address: SocketAddress, fd: CInt, peer: Bool) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                peer ? getpeername(fd, sa, &length) : getsockname(fd, sa, &length)
            }
        }
        guard status == 0 else { return false }
        return address.withSockAddr { expected, expectedLength in
            withUnsafeBytes(of: &storage) { actual in
                // Byte ranges of the family, the port and the address: sockaddr_in is family
                // (2), port (2), address (4); sockaddr_in6 is family, port, flow info (4), address (16).
                let ranges: [Range<Int>]
                switch Int32(expected.pointee.sa_family) {
                case AF_INET: ranges = [0..<8]
                case AF_INET6: ranges = [0..<4, 8..<24]
                default: return false
                }
                guard ranges.allSatisfy({ $0.upperBound <= expectedLength && $0.upperBound <= Int(length) }) else { return false }
                let wanted = UnsafeRawBufferPointer(start: expected, count: expectedLength)
                return ranges.allSatisfy { actual[$0].elementsEqual(wanted[$0]) }
            }
        }
    }
}
