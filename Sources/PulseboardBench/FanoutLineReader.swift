import Foundation

/// Reads `\n`-terminated lines from a file handle (a pipe) on a thread of its own, so that a blocking
/// read never holds up a Swift concurrency thread. Lines can be of any length; `next()` returns them
/// in order to one reader at a time.
final class FanoutLineReader: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`.
    private var buffered: [String] = []
    private var ended = false
    private var waiter: CheckedContinuation<String?, Never>?

    /// Starts reading at once; `onEnd` runs on the reading thread at end of file.
    init(_ handle: FileHandle, onEnd: (@Sendable () -> Void)? = nil) {
        let thread = Thread { [self] in
            var pending: [UInt8] = []
            var searched = 0
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                pending.append(contentsOf: data)
                var start = 0
                while let newline = pending[searched...].firstIndex(of: 10) {
                    deliver(String(decoding: pending[start..<newline], as: UTF8.self))
                    start = newline + 1
                    searched = start
                }
                if start > 0 { pending.removeFirst(start) }
                searched = pending.count
            }
            deliver(nil)
            onEnd?()
        }
        thread.start()
    }

    /// The next line, or nil at end of file.
    func next() async -> String? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if !buffered.isEmpty {
                let line = buffered.removeFirst()
                lock.unlock()
                continuation.resume(returning: line)
            } else if ended {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }

    /// Hands a line (nil: end of file) to the waiting reader, or buffers it.
    private func deliver(_ line: String?) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            lock.unlock()
            waiter.resume(returning: line)
            return
        }
        if let line { buffered.append(line) } else { ended = true }
        lock.unlock()
    }
}
