import Foundation

/// The journal's fsync thread. Batched policy: one fsync every interval when something was
/// written. Durable policy: fsyncs as soon as anyone waits, and one fsync releases every waiter
/// whose bytes it covers (group commit), so throughput holds under concurrency.
final class JournalSyncer: @unchecked Sendable {
    // @unchecked: every mutable field below is only touched with `condition` locked.
    private let condition = NSCondition()
    private var fd: Int32
    private var retiring: [Int32] = []
    private var written: UInt64 = 0
    private var synced: UInt64 = 0
    private var waiters: [(position: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
    private var stopping = false
    private var stopped = false
    private var failure: String? = nil
    private let durable: Bool
    private let interval: TimeInterval
    private let telemetry: Telemetry
    private var thread: Thread? = nil

    init(fd: Int32, durable: Bool, intervalMs: Int, telemetry: Telemetry) {
        self.fd = fd
        self.durable = durable
        self.interval = Double(max(1, intervalMs)) / 1000
        self.telemetry = telemetry
    }

    func start() {
        let t = Thread { [self] in self.loop() }
        t.name = "pulseboard-fsync"
        thread = t
        t.start()
    }

    /// Notes that bytes up to `position` were written.
    func wrote(upTo position: UInt64) {
        condition.lock()
        if position > written { written = position }
        condition.unlock()
    }

    /// Hands over a new segment's descriptor; the old one is synced and closed by this thread.
    func rotate(to newFd: Int32) {
        condition.lock()
        retiring.append(fd)
        fd = newFd
        condition.unlock()
    }

    /// Returns once everything up to `position` is fsynced.
    func waitDurable(_ position: UInt64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if let failure {
                condition.unlock()
                c.resume(throwing: JournalError(failure))
                return
            }
            if synced >= position {
                condition.unlock()
                c.resume()
                return
            }
            waiters.append((position, c))
            condition.signal()
            condition.unlock()
        }
    }

    /// Syncs what is left, then stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !stopped, thread != nil { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        condition.lock()
        while true {
            if stopping && written <= synced && retiring.isEmpty { break }
            if !stopping {
                if durable {
                    if waiters.isEmpty && retiring.isEmpty { _ = condition.wait(until: Date(timeIntervalSinceNow: interval)) }
                } else {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: interval))
                }
            }
            guard written > synced || !retiring.isEmpty else { continue }
            let target = written
            let current = fd
            let old = retiring
            retiring.removeAll()
            condition.unlock()

            let start = DispatchTime.now().uptimeNanoseconds
            var ok = true
            for o in old {
                if fsync(o) != 0 { ok = false }
                close(o)
            }
            if fsync(current) != 0 { ok = false }
            telemetry.fsyncs.add(1)
            telemetry.fsyncNanos.add(DispatchTime.now().uptimeNanoseconds - start)

            condition.lock()
            var ready: [CheckedContinuation<Void, any Error>] = []
            if ok {
                if target > synced { synced = target }
                waiters.removeAll { w in
                    if w.position <= synced { ready.append(w.continuation); return true }
                    return false
                }
            } else {
                failure = "fsync failed: \(String(cString: strerror(errno)))"
            }
            let failed = failure
            let all = failed != nil ? waiters.map(\.continuation) : []
            if failed != nil { waiters.removeAll() }
            condition.unlock()
            for c in ready { c.resume() }
            for c in all { c.resume(throwing: JournalError(failed!)) }
            condition.lock()
        }
        fsync(fd)
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
