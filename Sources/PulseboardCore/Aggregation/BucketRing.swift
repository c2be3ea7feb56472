/// A ring of fixed-width time buckets with running totals for a few standard window lengths.
///
/// Bucket `b` covers `[b·width, (b+1)·width)` seconds. Totals hold the *closed* buckets of each
/// standard window; a window's value is its total plus the open bucket, so an event costs one
/// add and each advance one add and one subtract per standard window.
public struct BucketRing: Sendable {
    /// Seconds per bucket.
    public let width: Int64
    /// Buckets kept.
    public let capacity: Int
    /// Standard window lengths, in buckets, that keep running totals.
    public let standardLengths: [Int]

    var states: [BucketState]
    var sketches: [QuantileSketch]
    var numbers: [Int64]
    /// The open bucket.
    public internal(set) var current: Int64
    var totals: [BucketState]
    var totalSketches: [QuantileSketch]

    public init(width: Int64, capacity: Int, standardLengths: [Int], currentBucket: Int64) {
        precondition(standardLengths.allSatisfy { $0 >= 1 && $0 <= capacity })
        self.width = width
        self.capacity = capacity
        self.standardLengths = standardLengths
        self.states = Array(repeating: BucketState(), count: capacity)
        self.sketches = Array(repeating: QuantileSketch(), count: capacity)
        self.numbers = Array(repeating: Int64.min, count: capacity)
        self.current = currentBucket
        self.totals = Array(repeating: BucketState(), count: standardLengths.count)
        self.totalSketches = Array(repeating: QuantileSketch(), count: standardLengths.count)
        numbers[slot(currentBucket)] = currentBucket
    }

    @inline(__always) func slot(_ bucket: Int64) -> Int {
        let m = bucket % Int64(capacity)
        return Int(m < 0 ? m + Int64(capacity) : m)
    }

    /// Oldest bucket still held.
    @inline(__always) public var oldest: Int64 { current - Int64(capacity) + 1 }

    /// Moves the open bucket forward to `bucket`, closing and expiring buckets on the way.
    public mutating func advance(to bucket: Int64) {
        guard bucket > current else { return }
        if bucket - current >= Int64(capacity) {
            for i in 0..<capacity {
                states[i] = BucketState()
                sketches[i].removeAll()
                numbers[i] = Int64.min
            }
            for w in totals.indices {
                totals[w] = BucketState()
                totalSketches[w].removeAll()
            }
            current = bucket
            numbers[slot(bucket)] = bucket
            return
        }
        while current < bucket {
            let closing = slot(current)
            for w in standardLengths.indices {
                totals[w].add(states[closing])
                totalSketches[w].merge(sketches[closing])
            }
            current += 1
            for (w, length) in standardLengths.enumerated() {
                let leaving = current - Int64(length)
                let s = slot(leaving)
                if numbers[s] == leaving {
                    totals[w].subtract(states[s])
                    totalSketches[w].subtract(sketches[s])
                }
            }
            let s = slot(current)
            states[s] = BucketState()
            sketches[s].removeAll()
            numbers[s] = current
        }
    }

    /// Adds `delta` (and a response-time sketch key, if any) to `bucket`, which must be held.
    @inline(__always)
    public mutating func add(_ delta: BucketState, sketchKey: Int32?, to bucket: Int64) {
        let s = slot(bucket)
        if numbers[s] != bucket {
            // First write to a held bucket that was never opened (after a reset or at start).
            states[s] = BucketState()
            sketches[s].removeAll()
            numbers[s] = bucket
        }
        states[s].add(delta)
        if let k = sketchKey { sketches[s].add(key: k) }
        if bucket != current {
            // A late event in a closed bucket: the totals that cover it must see it too.
            for (w, length) in standardLengths.enumerated() where bucket > current - Int64(length) {
                totals[w].add(delta)
                if let k = sketchKey { totalSketches[w].add(key: k) }
            }
        }
    }

    /// Whether `bucket` is held by the ring.
    @inline(__always) public func holds(_ bucket: Int64) -> Bool {
        bucket <= current && bucket > current - Int64(capacity)
    }

    /// The merged state and sketch of the last `length` buckets (the open one included).
    public func window(length: Int, withSketch: Bool) -> (BucketState, QuantileSketch) {
        let cur = slot(current)
        if let w = standardLengths.firstIndex(of: length) {
            var state = totals[w]
            state.add(states[cur])
            var sketch = QuantileSketch()
            if withSketch {
                sketch = totalSketches[w]
                sketch.merge(sketches[cur])
            }
            if state.responseCount > 0 { state.responseMax = maxResponse(length: length) }
            return (state, sketch)
        }
        var state = BucketState()
        var sketch = QuantileSketch()
        forEachBucket(length: length) { _, st, sk in
            state.add(st)
            if withSketch { sketch.merge(sk) }
        }
        return (state, sketch)
    }

    func maxResponse(length: Int) -> Double {
        var m = 0.0
        forEachBucket(length: length) { _, st, _ in m = max(m, st.responseMax) }
        return m
    }

    /// Calls `body(bucketNumber, state, sketch)` for each held bucket of the last `length`, oldest first.
    public func forEachBucket(length: Int, _ body: (Int64, BucketState, QuantileSketch) -> Void) {
        let n = min(length, capacity)
        var b = current - Int64(n) + 1
        while b <= current {
            let s = slot(b)
            if numbers[s] == b { body(b, states[s], sketches[s]) } else { body(b, BucketState(), QuantileSketch()) }
            b += 1
        }
    }

    /// Approximate bytes held.
    public var memoryBytes: Int {
        var bytes = capacity * (MemoryLayout<BucketState>.stride + MemoryLayout<QuantileSketch>.stride + 8)
        for s in sketches { bytes += s.memoryBytes }
        for s in totalSketches { bytes += s.memoryBytes }
        return bytes
    }
}
