import Foundation
import Synchronization

/// The source of "now" for windows, validation and the journal; injected so tests can drive time.
public protocol WallClock: Sendable {
    /// Milliseconds since the Unix epoch.
    func nowMillis() -> Int64
}

/// The system's real-time clock.
public struct SystemClock: WallClock {
    public init() {}
    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to (tests, replay tools).
public final class ManualClock: WallClock {
    let value: Mutex<Int64>
    public init(millis: Int64) { value = Mutex(millis) }
    public func nowMillis() -> Int64 { value.withLock { $0 } }
    public func advance(byMillis ms: Int64) { value.withLock { $0 += ms } }
    public func set(millis: Int64) { value.withLock { $0 = millis } }
}
