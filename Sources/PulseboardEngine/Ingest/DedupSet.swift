import DequeModule
import PulseboardCore

/// Remembers `event_id` hashes for a time horizon so retried batches are counted once. Memory is
/// capped: past `maxIds` the oldest ids are forgotten early (and counted).
struct DedupSet: Sendable {
    let horizonSeconds: Int64
    let maxIds: Int
    var ids = IdTable(capacity: 1024)
    var order: Deque<(id: UInt64, second: Int64)> = []

    init(horizonSeconds: Int64, maxIds: Int) {
        self.horizonSeconds = horizonSeconds
        self.maxIds = maxIds
    }

    /// Prefetches `id`'s slot (see `IdTable.touch`).
    @inline(__always) func touch(_ id: UInt64) -> UInt64 { ids.touch(id) }

    /// Inserts `id`; false when it was already present (a duplicate).
    @inline(__always)
    mutating func insert(_ id: UInt64, second: Int64) -> Bool {
        guard ids.slot(for: id, initial: 0).inserted else { return false }
        order.append((id, second))
        return true
    }

    /// Removes an id inserted by a batch that then failed to be journaled.
    mutating func rollback(_ id: UInt64) {
        ids.remove(id)
        if let last = order.last, last.id == id { order.removeLast() }
    }

    /// Forgets ids older than the horizon, and the oldest beyond the cap; returns how many were
    /// forgotten early because of the cap.
    mutating func expire(now second: Int64) -> Int {
        let cutoff = second - horizonSeconds
        while let first = order.first, first.second < cutoff {
            order.removeFirst()
            ids.remove(first.id)
        }
        var early = 0
        while order.count > maxIds, let first = order.first {
            order.removeFirst()
            ids.remove(first.id)
            early += 1
        }
        return early
    }

    var count: Int { order.count }
    var memoryBytes: Int { ids.memoryBytes + order.count * 16 }
}

extension DedupSet {
    func write(to w: inout SnapshotWriter) {
        ids.write(to: &w)
        var flat: [Int64] = []
        flat.reserveCapacity(order.count * 2)
        for e in order {
            flat.append(Int64(bitPattern: e.id))
            flat.append(e.second)
        }
        w.write(flat)
    }

    mutating func read(_ r: inout SnapshotReader) throws(SnapshotError) {
        ids = try IdTable(snapshot: &r)
        let flat: [Int64] = try r.readArray()
        guard flat.count % 2 == 0, flat.count / 2 == ids.count else {
            throw SnapshotError("dedup set: \(flat.count / 2) ids in order, \(ids.count) in the table")
        }
        order = []
        order.reserveCapacity(flat.count / 2)
        var i = 0
        while i < flat.count {
            order.append((UInt64(bitPattern: flat[i]), flat[i + 1]))
            i += 2
        }
    }
}
