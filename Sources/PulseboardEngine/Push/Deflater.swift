import CZlib
import NIOCore

/// Raw DEFLATE for WebSocket permessage-deflate (RFC 7692) with no context takeover: every
/// message is compressed on its own, so one compressed frame serves every subscriber.
final class Deflater: @unchecked Sendable {
    // @unchecked: not thread-safe; its only owner, the hub, calls it under its lock.
    private var stream = z_stream()
    private var scratch: [UInt8]

    init(level: Int32 = 6) {
        scratch = [UInt8](repeating: 0, count: 64 * 1024)
        let status = czlib_deflate_init_raw(&stream, level)
        precondition(status == Z_OK, "zlib deflateInit2 failed: \(status)")
    }

    deinit { deflateEnd(&stream) }

    /// The compressed payload of one message, without the trailing `00 00 ff ff` (RFC 7692 §7.2.1).
    func compress(_ input: [UInt8]) -> [UInt8] {
        deflateReset(&stream)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 3 + 64)
        input.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = UInt32(src.count)
            repeat {
                scratch.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(dst.count)
                    _ = deflate(&stream, Z_SYNC_FLUSH)
                    out.append(contentsOf: dst[0..<(dst.count - Int(stream.avail_out))])
                }
            } while stream.avail_out == 0
        }
        stream.next_in = nil
        if out.count >= 4, out.suffix(4) == [0, 0, 0xFF, 0xFF] { out.removeLast(4) }
        return out
    }
}

/// Inflates client messages compressed with permessage-deflate. The server always negotiates
/// `client_no_context_takeover`, so each message stands alone and no window is kept between
/// messages (no 32 KiB per connection).
public enum Inflater {
    /// What inflating a message gave: its bytes, or why not (they close with different codes).
    public enum Outcome: Equatable, Sendable {
        case bytes([UInt8])
        /// It inflates past the limit (WebSocket close 1009).
        case tooLarge
        /// It is not a valid deflate stream (close 1007).
        case corrupt
    }

    /// The decompressed message, or why there is none.
    public static func inflate(_ payload: ByteBuffer, maxBytes: Int) -> Outcome {
        var stream = z_stream()
        guard czlib_inflate_init_raw(&stream) == Z_OK else { return .corrupt }
        defer { inflateEnd(&stream) }
        var input = Array(payload.readableBytesView)
        input += [0, 0, 0xFF, 0xFF]
        var out: [UInt8] = []
        var scratch = [UInt8](repeating: 0, count: 16 * 1024)
        var ok = true
        input.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            repeat {
                scratch.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(dst.count)
                    let status = CZlib.inflate(&stream, Z_SYNC_FLUSH)
                    if status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR { ok = false }
                    out.append(contentsOf: dst[0..<(dst.count - Int(stream.avail_out))])
                }
            } while ok && stream.avail_out == 0 && out.count <= maxBytes
        }
        guard ok else { return .corrupt }
        return out.count <= maxBytes ? .bytes(out) : .tooLarge
    }
}
