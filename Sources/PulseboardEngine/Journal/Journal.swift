import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import PulseboardCore

/// The append-only journal: checksummed records in numbered segment files under
/// `<data-dir>/journal/`. Every accepted batch is appended before it is acknowledged; start-up
/// replays the recent segments into the live windows.
public final class Journal: Sendable {
    /// A segment file on disk.
    public struct Segment: Sendable, Equatable {
        public var sequence: UInt64
        public var path: String
        public var bytes: Int
        /// Last modification, epoch milliseconds.
        public var modifiedMs: Int64
    }

    struct Writer {
        var fd: Int32
        var sequence: UInt64
        var segmentBytes: Int
        /// Bytes appended in this process (monotonic; what durability waits on).
        var position: UInt64
        var closed: Bool
    }

    public let directory: String
    public let configuration: JournalConfiguration
    /// Segments that existed before this process started writing (what start-up replays).
    public let previousSegments: [Segment]
    let writer: NIOLockedValueBox<Writer>
    let syncer: JournalSyncer
    let telemetry: Telemetry
    let logger: Logger

    /// Opens (creating if needed) the journal in `directory` and starts a fresh segment.
    public init(directory: String, configuration: JournalConfiguration, telemetry: Telemetry, logger: Logger) throws {
        self.directory = directory
        self.configuration = configuration
        self.telemetry = telemetry
        self.logger = logger
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let existing = try Journal.listSegments(in: directory)
        self.previousSegments = existing
        let next = (existing.last?.sequence ?? 0) + 1
        let fd = try Journal.openSegment(directory: directory, sequence: next)
        self.writer = NIOLockedValueBox(Writer(fd: fd, sequence: next, segmentBytes: JournalRecord.fileMagic.count, position: 0, closed: false))
        let syncFd = dup(fd)
        self.syncer = JournalSyncer(
            fd: syncFd, durable: configuration.writePolicy == .durable, intervalMs: configuration.fsyncIntervalMs, telemetry: telemetry)
        syncer.start()
    }

    static func segmentName(_ sequence: UInt64) -> String {
        let digits = String(sequence)
        return "segment-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".pbj"
    }

    static func openSegment(directory: String, sequence: UInt64) throws -> Int32 {
        let path = directory + "/" + segmentName(sequence)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError("cannot create \(path): \(String(cString: strerror(errno)))") }
        let ok = JournalRecord.fileMagic.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) == $0.count }
        guard ok else {
            Glibc.close(fd)
            throw JournalError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    /// Lists the segment files of `directory`, oldest first.
    public static func listSegments(in directory: String) throws -> [Segment] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var list: [Segment] = []
        for name in names where name.hasPrefix("segment-") && name.hasSuffix(".pbj") {
            let digits = name.dropFirst(8).dropLast(4)
            guard let seq = UInt64(digits) else { continue }
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            let mtime = Int64(st.st_mtim.tv_sec) * 1000 + Int64(st.st_mtim.tv_nsec) / 1_000_000
            list.append(Segment(sequence: seq, path: path, bytes: Int(st.st_size), modifiedMs: mtime))
        }
        return list.sorted { $0.sequence < $1.sequence }
    }

    /// Appends one record; returns the position durability waits on. On failure the segment is
    /// cut back to where the record began, so a failed write never corrupts later records.
    public func append(arrivalMs: Int64, format: EventDecoder.Format, mask: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) throws(JournalError) -> UInt64 {
        let header = JournalRecord.header(arrivalMs: arrivalMs, format: format, mask: mask, body: body)
        let total = header.count + mask.count + body.count
        let result: Result<UInt64, JournalError> = writer.withLockedValue { w in
            guard !w.closed else { return .failure(JournalError("journal is closed")) }
            if w.segmentBytes + total > configuration.segmentBytes && w.segmentBytes > JournalRecord.fileMagic.count {
                do {
                    let next = w.sequence + 1
                    let fd = try Journal.openSegment(directory: directory, sequence: next)
                    syncer.rotate(to: dup(fd))
                    Glibc.close(w.fd)
                    w.fd = fd
                    w.sequence = next
                    w.segmentBytes = JournalRecord.fileMagic.count
                } catch {
                    return .failure(JournalError("cannot start a new journal segment: \(error)"))
                }
            }
            let ok = header.withUnsafeBytes { h in
                var iov = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: h.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: mask.baseAddress), iov_len: mask.count),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count),
                ]
                return Journal.writeAll(fd: w.fd, iov: &iov, total: total)
            }
            guard ok else {
                let reason = String(cString: strerror(errno))
                _ = ftruncate(w.fd, off_t(w.segmentBytes))
                return .failure(JournalError("journal write failed: \(reason)"))
            }
            w.segmentBytes += total
            w.position += UInt64(total)
            return .success(w.position)
        }
        let position = try result.get()
        telemetry.journalBytes.add(UInt64(total))
        syncer.wrote(upTo: position)
        return position
    }

    static func writeAll(fd: Int32, iov: inout [iovec], total: Int) -> Bool {
        var remaining = total
        var first = 0
        while remaining > 0 {
            let n = iov.withUnsafeMutableBufferPointer { p in
                writev(fd, p.baseAddress! + first, Int32(p.count - first))
            }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            remaining -= n
            var done = n
            while first < iov.count && done >= iov[first].iov_len {
                done -= iov[first].iov_len
                first += 1
            }
            if first < iov.count && done > 0 {
                iov[first].iov_base = iov[first].iov_base.map { $0 + done }
                iov[first].iov_len -= done
            }
        }
        return true
    }

    /// Waits until everything up to `position` is fsynced (the `durable` policy's acknowledgement).
    public func waitDurable(_ position: UInt64) async throws {
        try await syncer.waitDurable(position)
    }

    /// fsyncs and closes the journal; later appends fail. Called on graceful shutdown.
    public func close() {
        let fd: Int32? = writer.withLockedValue { w in
            guard !w.closed else { return nil }
            w.closed = true
            return w.fd
        }
        guard let fd else { return }
        syncer.stop()
        fsync(fd)
        Foundation.close(fd)
        logger.info("journal closed", metadata: ["bytes_written": "\(writer.withLockedValue { $0.position })"])
    }

    /// Deletes whole segments last written before `cutoffMs` (never the one being written).
    @discardableResult
    public func deleteSegments(olderThan cutoffMs: Int64) -> Int {
        let current = writer.withLockedValue { $0.sequence }
        var removed = 0
        for s in (try? Journal.listSegments(in: directory)) ?? [] where s.sequence < current && s.modifiedMs < cutoffMs {
            if unlink(s.path) == 0 {
                removed += 1
                logger.info("retention deleted journal segment", metadata: ["segment": "\(s.path)", "bytes": "\(s.bytes)"])
            }
        }
        return removed
    }

    /// The segment being written and its size so far (after `close`, its final size).
    public var currentSegment: (sequence: UInt64, bytes: Int) {
        writer.withLockedValue { ($0.sequence, $0.segmentBytes) }
    }

    /// Total bytes of all segments on disk.
    public func diskBytes() -> Int {
        ((try? Journal.listSegments(in: directory)) ?? []).reduce(0) { $0 + $1.bytes }
    }
}
