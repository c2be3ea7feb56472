import PulseboardCore

/// Remembers `event_id` hashes for a time horizon so retried batches are counted once. Memory is
/// capped: past `maxIds` the oldest ids are forgotten early (and counted).
///
/// Forgetting is spread over inserts: each one first drops up to two ids that have passed the
/// horizon, and a new id drops the oldest when the set is full, so at 200 k events/s no single
/// call drops a second's worth of ids (a once-a-second sweep used to, behind the ingest lock,
/// for 100 ms and more). The table keeps each id's second, so an id past the horizon that has
/// not been dropped yet is not taken for a duplicate.
struct DedupSet: Sendable {
    let horizonSeconds: Int64
    let maxIds: Int
    /// Id → the second it was inserted.
    var ids = IdTable(capacity: 1024)
    var order = ChunkedQueue<(id: UInt64, second: Int64)>()
    /// Ids forgotten early (over the cap) since `expire` last reported them.
    var forgottenEarly = 0

    /// Expired ids each insert drops before its own: more than one, so a backlog drains.
    static let dropsPerInsert = 2

    init(horizonSeconds: Int64, maxIds: Int) {
        self.horizonSeconds = horizonSeconds
        self.maxIds = maxIds
    }

    /// Prefetches `id`'s slot (see `IdTable.touch`).
    @inline(__always) func touch(_ id: UInt64) -> UInt64 { ids.touch(id) }

    /// Inserts `id`; false when it was already present (a duplicate).
    @inline(__always)
    mutating func insert(_ id: UInt64, second: Int64) -> Bool {
        let cutoff = second - horizonSeconds
        dropExpired(before: cutoff, limit: DedupSet.dropsPerInsert)
        let (slot, inserted) = ids.slot(for: id, initial: second)
        if !inserted {
            guard ids[slot: slot] < cutoff else { return false }
            // Past the horizon but not dropped yet: drop it and the ids before it (older still).
            while ids.value(for: id) != nil, let first = order.first, first.second < cutoff { dropFirst() }
            // Still there: seconds out of order (a clock stepped back); it stays remembered.
            guard ids.value(for: id) == nil else { return false }
            _ = ids.slot(for: id, initial: second)
        }
        // Full: the oldest goes (never this id, which is not in `order` yet).
        if order.count >= maxIds { dropOldest() }
        order.append((id, second))
        return true
    }

    /// Removes an id inserted by a batch that then failed to be journaled.
    mutating func rollback(_ id: UInt64) {
        ids.remove(id)
        if let last = order.last, last.id == id { order.removeLast() }
    }

    /// Forgets up to `limit` ids older than the horizon (what inserts have not dropped: traffic
    /// that slowed down or stopped); returns how many were forgotten early because of the cap
    /// since the last call.
    mutating func expire(now second: Int64, limit: Int = .max) -> Int {
        dropExpired(before: second - horizonSeconds, limit: limit)
        while order.count > maxIds { dropOldest() }
        defer { forgottenEarly = 0 }
        return forgottenEarly
    }

    @inline(__always)
    private mutating func dropExpired(before cutoff: Int64, limit: Int) {
        var left = limit
        while left > 0, let first = order.first, first.second < cutoff {
            dropFirst()
            left -= 1
        }
    }

    private mutating func dropOldest() {
        dropFirst()
        forgottenEarly += 1
    }

    private mutating func dropFirst() {
        let first = order.removeFirst()
        ids.remove(first.id)
    }

    var count: Int { order.count }
    var memoryBytes: Int { ids.memoryBytes + order.count * 16 }
}

extension DedupSet {
    func write(to w: inout SnapshotWriter) {
        ids.write(to: &w)
        var flat: [Int64] = []
        flat.reserveCapacity(order.count * 2)
        order.forEach { e in
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
        order = ChunkedQueue()
        var i = 0
        while i < flat.count {
            order.append((UInt64(bitPattern: flat[i]), flat[i + 1]))
            i += 2
        }
    }
}
