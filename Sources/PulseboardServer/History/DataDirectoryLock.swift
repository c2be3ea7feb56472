import Foundation
import PulseboardEngine

/// An exclusive lock on a data directory (`<data-dir>/LOCK`, flock), so `pulseboard replay`
/// and a server never write the same history at once. Released when the process exits.
public final class DataDirectoryLock: Sendable {
    let fd: Int32

    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/LOCK"
        fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw HistoryError("cannot open \(path)") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            Foundation.close(fd)
            throw HistoryError("\(directory) is in use by another pulseboard process (a running server?); stop it, or import through POST /api/history/import")
        }
    }

    deinit { Foundation.close(fd) }
}
