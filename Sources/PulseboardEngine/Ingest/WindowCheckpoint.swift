import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PulseboardCore

/// The live windows, dedup set and rate limiter as they were at a graceful shutdown, with the
/// journal position they cover: a restart reads this one file and replays only the journal
/// written after it, instead of a whole day of journal. A crash leaves the previous checkpoint
/// (or none) and the journal after it, so start-up is always checkpoint + later segments.
///
/// File: magic, version, fingerprint (layout and settings), covered segment and its size,
/// time taken, payload length and checksum, payload. Anything that does not match is refused
/// and start-up replays the journal instead.
public struct WindowCheckpoint: Sendable {
    public static let fileName = "windows.checkpoint"
    static let magic: UInt32 = 0x4357_4250  // "PBWC"
    static let version: UInt32 = 2

    /// The journal segment being written when the checkpoint was taken: every record in it and
    /// before it is in the checkpoint.
    public var segmentSequence: UInt64
    /// That segment's size then; a segment of another size is not the one the checkpoint saw.
    public var segmentBytes: Int
    public var takenAtMs: Int64
    public var fingerprint: String
    /// The encoded windows, dedup set and limiter (`Ingestor.restore` reads it).
    var payload: [UInt8]

    /// Writes the checkpoint to `path` atomically: a temporary file, fsynced, renamed over it.
    public func save(to path: String) throws {
        var w = SnapshotWriter(reservingCapacity: payload.count + 256)
        w.write(WindowCheckpoint.magic)
        w.write(WindowCheckpoint.version)
        w.write(fingerprint)
        w.write(segmentSequence)
        w.write(Int64(segmentBytes))
        w.write(takenAtMs)
        w.write(Int64(payload.count))
        w.write(payload.withUnsafeBytes { StableHash.hash($0) })
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SnapshotError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        for part in [w.bytes, payload] {
            let ok = part.withUnsafeBytes { p in
                var done = 0
                while done < p.count {
                    let n = write(fd, p.baseAddress! + done, p.count - done)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    done += n
                }
                return true
            }
            guard ok else {
                unlink(temporary)
                throw SnapshotError("cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
        }
        guard fsync(fd) == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SnapshotError("cannot store \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Reads and verifies the checkpoint at `path`; nil when there is none.
    public static func load(from path: String, fingerprint expected: String) throws(SnapshotError) -> WindowCheckpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw SnapshotError("cannot read \(path)") }
        let result: Result<WindowCheckpoint, SnapshotError> = data.withUnsafeBytes { raw in
            Result { () throws(SnapshotError) in
                var r = SnapshotReader(raw)
                guard try r.read(UInt32.self) == magic else { throw SnapshotError("not a window checkpoint") }
                let version: UInt32 = try r.read()
                guard version == WindowCheckpoint.version else { throw SnapshotError("format version \(version), this build reads \(WindowCheckpoint.version)") }
                let fingerprint = try r.readString()
                guard fingerprint == expected else {
                    throw SnapshotError("written under other settings (\(fingerprint)); these are \(expected)")
                }
                let sequence: UInt64 = try r.read()
                let bytes: Int64 = try r.read()
                let taken: Int64 = try r.read()
                let length = try r.readCount(limit: r.remaining, "payload")
                let sum: UInt64 = try r.read()
                guard length == r.remaining else { throw SnapshotError("payload of \(r.remaining) bytes, the header says \(length)") }
                let payload = UnsafeRawBufferPointer(rebasing: raw[r.offset...])
                guard StableHash.hash(payload) == sum else { throw SnapshotError("payload checksum does not match") }
                return WindowCheckpoint(
                    segmentSequence: sequence, segmentBytes: Int(bytes), takenAtMs: taken, fingerprint: fingerprint, payload: Array(payload))
            }
        }
        return try result.get()
    }
}
