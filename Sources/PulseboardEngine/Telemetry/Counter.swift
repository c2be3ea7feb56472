import Synchronization

/// A lock-free monotonically increasing counter.
public final class Counter: Sendable {
    let storage = Atomic<UInt64>(0)
    public init() {}
    @inline(__always) public func add(_ n: UInt64) { storage.wrappingAdd(n, ordering: .relaxed) }
    public var value: UInt64 { storage.load(ordering: .relaxed) }
}

/// A lock-free histogram with fixed upper bounds (Prometheus `le` buckets).
public final class Histogram: Sendable {
    public let bounds: [Double]
    let buckets: [Counter]
    let count = Counter()
    let sumMicros = Counter()

    public init(bounds: [Double]) {
        self.bounds = bounds
        self.buckets = bounds.map { _ in Counter() }
    }

    /// Records a value (in the histogram's unit).
    public func observe(_ value: Double) {
        count.add(1)
        sumMicros.add(UInt64(max(0, value) * 1_000_000))
        for (i, b) in bounds.enumerated() where value <= b {
            buckets[i].add(1)
            return
        }
    }

    func render(name: String, help: String, into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative: UInt64 = 0
        for (i, b) in bounds.enumerated() {
            cumulative += buckets[i].value
            out += "\(name)_bucket{le=\"\(b)\"} \(cumulative)\n"
        }
        out += "\(name)_bucket{le=\"+Inf\"} \(count.value)\n"
        out += "\(name)_sum \(Double(sumMicros.value) / 1_000_000)\n"
        out += "\(name)_count \(count.value)\n"
    }
}
