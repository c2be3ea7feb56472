import CZlib
import Foundation

/// Whole NDJSON lines to import: bytes of their own, or a range of a memory-mapped file (kept
/// mapped while any chunk of it lives), so a plain file is decoded where the page cache holds
/// it, with no copy.
public struct NDJSONChunk: Sendable {
    enum Storage: Sendable {
        case owned([UInt8])
        case mapped(MappedFile, Range<Int>)
    }

    var storage: Storage

    public init(_ bytes: [UInt8]) { storage = .owned(bytes) }

    init(file: MappedFile, range: Range<Int>) { storage = .mapped(file, range) }

    public var count: Int {
        switch storage {
        case .owned(let b): b.count
        case .mapped(_, let r): r.count
        }
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .owned(let b): return try b.withUnsafeBytes(body)
        case .mapped(let f, let r): return try body(UnsafeRawBufferPointer(start: f.base + r.lowerBound, count: r.count))
        }
    }

    /// Drops the first `n` bytes.
    mutating func removeFirst(_ n: Int) {
        switch storage {
        case .owned(var b):
            b.removeFirst(n)
            storage = .owned(b)
        case .mapped(let f, let r):
            storage = .mapped(f, (r.lowerBound + n)..<r.upperBound)
        }
    }
}

/// A file mapped read-only, unmapped when the last reference goes.
final class MappedFile: Sendable {
    // Immutable after init; the mapping is read-only.
    nonisolated(unsafe) let base: UnsafeRawPointer
    let size: Int

    init?(descriptor fd: Int32, size: Int) {
        guard size > 0, let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else { return nil }
        _ = madvise(p, size, Int32(MADV_SEQUENTIAL))
        base = UnsafeRawPointer(p)
        self.size = size
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), size) }
}

/// Reads an NDJSON file (plain or `.gz`) in chunks that end on a line boundary, so each chunk
/// decodes as one NDJSON body. Reports bytes read from disk for progress.
public final class NDJSONFileReader {
    let handle: FileHandle
    let gzip: Bool
    var stream = z_stream()
    var carry: [UInt8] = []
    var eof = false
    /// A plain file, mapped whole; nil for gzip files (and empty or unmappable ones).
    let mapped: MappedFile?
    public private(set) var compressedBytesRead = 0
    public let fileBytes: Int

    public init(path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw HistoryError("cannot open \(path)") }
        handle = h
        fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        gzip = path.hasSuffix(".gz")
        if gzip, czlib_inflate_init_gzip(&stream) != Z_OK { throw HistoryError("zlib could not start inflating \(path)") }
        mapped = gzip ? nil : MappedFile(descriptor: h.fileDescriptor, size: fileBytes)
    }

    /// The next chunk of whole lines (about `size` bytes), or nil at the end of the file: a
    /// range of the mapping for plain files, inflated bytes for gzip ones.
    public func nextChunk(size: Int = 4 << 20) throws -> NDJSONChunk? {
        guard let file = mapped else { return try next(size: size).map(NDJSONChunk.init) }
        let start = compressedBytesRead
        guard start < file.size else { return nil }
        var end = min(file.size, start + size)
        if end < file.size, let nl = memchr(file.base + end, 0x0A, file.size - end) {
            end = UnsafeRawPointer(nl) - file.base + 1
        } else {
            end = file.size
        }
        compressedBytesRead = end
        return NDJSONChunk(file: file, range: start..<end)
    }

    deinit {
        if gzip { inflateEnd(&stream) }
        try? handle.close()
    }

    /// The next chunk of whole lines (about `size` bytes), or nil at the end of the file.
    public func next(size: Int = 4 << 20) throws -> [UInt8]? {
        var out = carry
        carry = []
        // Room for a whole chunk up front: appending 1 MiB reads must not regrow the buffer.
        out.reserveCapacity(size + (2 << 20))
        if !gzip {
            try readPlain(into: &out, size: size)
        }
        while gzip && out.count < size && !eof {
            let data = handle.readData(ofLength: 1 << 20)
            compressedBytesRead += data.count
            if data.isEmpty { eof = true; break }
            if gzip { try inflate(data, into: &out) } else { out.append(contentsOf: data) }
        }
        if out.isEmpty { return nil }
        if !eof, let lastNewline = out.lastIndex(of: UInt8(ascii: "\n")) {
            carry = Array(out[(lastNewline + 1)...])
            out.removeSubrange((lastNewline + 1)...)
        }
        return out
    }

    /// Reads an uncompressed file straight into `out`'s spare capacity (no intermediate `Data`).
    func readPlain(into out: inout [UInt8], size: Int) throws {
        let fd = handle.fileDescriptor
        var failure: Int32 = 0
        while out.count < size && !eof {
            let want = min(1 << 20, out.capacity - out.count)
            let before = out.count
            out.append(contentsOf: repeatElement(0, count: want))
            let n = out.withUnsafeMutableBytes { buf in read(fd, buf.baseAddress! + before, want) }
            if n < 0 {
                if errno == EINTR { out.removeLast(want); continue }
                failure = errno
                out.removeLast(want)
                break
            }
            out.removeLast(want - n)
            compressedBytesRead += n
            if n == 0 { eof = true }
        }
        if failure != 0 { throw HistoryError("read failed: \(String(cString: strerror(failure)))") }
    }

    func inflate(_ data: Data, into out: inout [UInt8]) throws {
        var input = [UInt8](data)
        var scratch = [UInt8](repeating: 0, count: 256 * 1024)
        var failure: Int32 = Z_OK
        input.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            while stream.avail_in > 0 && failure == Z_OK {
                scratch.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(dst.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    out.append(contentsOf: dst[0..<(dst.count - Int(stream.avail_out))])
                    if status == Z_STREAM_END {
                        // Concatenated gzip members: start the next one.
                        inflateReset(&stream)
                    } else if status != Z_OK && status != Z_BUF_ERROR {
                        failure = status
                    }
                }
            }
        }
        if failure != Z_OK { throw HistoryError("corrupt gzip data (zlib status \(failure))") }
    }
}

/// Writes NDJSON to a file, gzip-compressed when the path ends in `.gz`.
public final class NDJSONFileWriter {
    let handle: FileHandle
    let gzip: Bool
    var stream = z_stream()
    public private(set) var bytesWritten = 0

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw HistoryError("cannot create \(path)")
        }
        handle = h
        gzip = path.hasSuffix(".gz")
        if gzip, czlib_deflate_init_gzip(&stream, 6) != Z_OK { throw HistoryError("zlib could not start deflating \(path)") }
    }

    public func write(_ bytes: [UInt8]) throws {
        guard gzip else {
            handle.write(Data(bytes))
            bytesWritten += bytes.count
            return
        }
        try deflate(bytes, flush: Z_NO_FLUSH)
    }

    public func close() throws {
        if gzip {
            try deflate([], flush: Z_FINISH)
            deflateEnd(&stream)
        }
        try handle.close()
    }

    func deflate(_ bytes: [UInt8], flush: Int32) throws {
        var input = bytes
        var scratch = [UInt8](repeating: 0, count: 256 * 1024)
        var chunks: [Data] = []
        input.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = UInt32(src.count)
            repeat {
                scratch.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = UInt32(dst.count)
                    _ = CZlib.deflate(&stream, flush)
                    let n = dst.count - Int(stream.avail_out)
                    if n > 0 { chunks.append(Data(dst[0..<n])) }
                }
            } while stream.avail_out == 0
        }
        for c in chunks {
            handle.write(c)
            bytesWritten += c.count
        }
    }
}
