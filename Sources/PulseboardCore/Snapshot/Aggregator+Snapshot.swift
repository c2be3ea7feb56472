// Writing the live windows to a checkpoint and reading them back, part by part. Every read
// checks shapes against what this build and configuration expect, so a checkpoint from another
// configuration is refused instead of misread.

extension Aggregator {
    /// Writes every window (the configuration is the checkpoint header's business).
    public func write(to w: inout SnapshotWriter) {
        w.write(second)
        w.write(coveredSince)
        w.write(lateInWindowTotal)
        w.write(historyOnlyTotal)
        root.write(to: &w)
        w.write(Int64(groups.count))
        for g in groups { g.write(to: &w) }
    }

    /// Reads windows written by `write(to:)` under the same configuration.
    public init(configuration: Configuration, snapshot r: inout SnapshotReader) throws(SnapshotError) {
        self.init(configuration: configuration, nowMs: 0)
        second = try r.read()
        coveredSince = try r.read()
        lateInWindowTotal = try r.read()
        historyOnlyTotal = try r.read()
        root = try Series(snapshot: &r)
        let n = try r.readCount(limit: 1024, "dimension groups")
        guard n == configuration.dimensions.names.count else {
            throw SnapshotError("\(n) dimension groups, the configuration has \(configuration.dimensions.names.count)")
        }
        var list: [DimensionGroups] = []
        for _ in 0..<n { list.append(try DimensionGroups(snapshot: &r, cap: configuration.maxValuesPerDimension)) }
        groups = list
    }
}

extension DimensionGroups {
    func write(to w: inout SnapshotWriter) {
        index.write(to: &w)
        w.write(Int64(names.count))
        for (name, s) in zip(names, series) {
            w.write(name)
            s.write(to: &w)
        }
        w.write(Int64(otherIndex ?? -1))
        w.write(overflowEvents)
    }

    init(snapshot r: inout SnapshotReader, cap: Int) throws(SnapshotError) {
        self.init(cap: cap)
        index = try IdTable(snapshot: &r)
        let n = try r.readCount(limit: cap + 1, "dimension values")
        for _ in 0..<n {
            names.append(try r.readString())
            series.append(try Series(snapshot: &r))
        }
        let other: Int64 = try r.read()
        guard other >= -1, other < Int64(n) else { throw SnapshotError("other series index \(other) of \(n)") }
        otherIndex = other < 0 ? nil : Int(other)
        overflowEvents = try r.read()
        guard index.count <= n else { throw SnapshotError("dimension index holds \(index.count) values for \(n) series") }
    }
}

extension Series {
    func write(to w: inout SnapshotWriter) {
        w.write(tracksSessionsAndThreads)
        fine.write(to: &w)
        coarse.write(to: &w)
        users.write(to: &w)
        sessions.write(to: &w)
        threads.write(to: &w)
    }

    init(snapshot r: inout SnapshotReader) throws(SnapshotError) {
        let tracks = try r.readBool()
        self.init(second: 0, tracksSessionsAndThreads: tracks)
        fine = try BucketRing(snapshot: &r, like: fine)
        coarse = try BucketRing(snapshot: &r, like: coarse)
        users = try DistinctCounter(snapshot: &r, tracked: true)
        sessions = try DistinctCounter(snapshot: &r, tracked: tracks)
        threads = try DistinctCounter(snapshot: &r, tracked: tracks)
    }
}

extension BucketRing {
    func write(to w: inout SnapshotWriter) {
        w.write(width)
        w.write(Int64(capacity))
        w.write(standardLengths.map(Int64.init))
        w.write(current)
        w.write(states)
        w.write(numbers)
        w.write(totals)
        for s in sketches { s.write(to: &w) }
        for s in totalSketches { s.write(to: &w) }
    }

    /// Reads a ring that must have the shape of `template`.
    init(snapshot r: inout SnapshotReader, like template: BucketRing) throws(SnapshotError) {
        let width: Int64 = try r.read()
        let capacity: Int64 = try r.read()
        let lengths: [Int64] = try r.readArray()
        guard width == template.width, capacity == Int64(template.capacity), lengths == template.standardLengths.map(Int64.init) else {
            throw SnapshotError("a ring of \(capacity) × \(width) s, this build keeps \(template.capacity) × \(template.width) s")
        }
        self = template
        current = try r.read()
        states = try r.readArray(count: template.capacity)
        numbers = try r.readArray(count: template.capacity)
        totals = try r.readArray(count: template.standardLengths.count)
        for i in 0..<template.capacity { sketches[i] = try QuantileSketch(snapshot: &r) }
        for i in 0..<template.standardLengths.count { totalSketches[i] = try QuantileSketch(snapshot: &r) }
    }
}

extension QuantileSketch {
    func write(to w: inout SnapshotWriter) {
        w.write(count)
        guard count > 0 else { return }
        w.write(offset)
        w.write(zeroCount)
        w.write(bins)
    }

    init(snapshot r: inout SnapshotReader) throws(SnapshotError) {
        self.init()
        count = try r.read()
        guard count > 0 else { return }
        offset = try r.read()
        zeroCount = try r.read()
        bins = try r.readContiguousArray()
    }
}

extension DistinctCounter {
    func write(to w: inout SnapshotWriter) {
        lastSeen.write(to: &w)
        w.write(fine)
        w.write(coarse)
        for total in [total1m, total5m, total15m, total1h, total24h] { w.write(Int64(total)) }
        w.write(second)
        w.write(minute)
        w.write(Int64(sweepCursor))
    }

    init(snapshot r: inout SnapshotReader, tracked: Bool) throws(SnapshotError) {
        self.init(second: 0, tracked: tracked)
        lastSeen = try IdTable(snapshot: &r)
        fine = try r.readArray(count: tracked ? DistinctCounter.fineCapacity : 0)
        coarse = try r.readArray(count: tracked ? DistinctCounter.coarseCapacity : 0)
        total1m = Int(try r.read(Int64.self))
        total5m = Int(try r.read(Int64.self))
        total15m = Int(try r.read(Int64.self))
        total1h = Int(try r.read(Int64.self))
        total24h = Int(try r.read(Int64.self))
        second = try r.read()
        minute = try r.read()
        sweepCursor = Int(try r.read(Int64.self))
    }
}

extension IdTable {
    /// Writes the table as it is (a migration in progress included).
    public func write(to w: inout SnapshotWriter) {
        w.write(Int64(count))
        entries.withUnsafeBufferPointer { w.write($0) }
        old.withUnsafeBufferPointer { w.write($0) }
        w.write(Int64(oldCursor))
    }

    /// Reads a table written by `write(to:)`.
    public init(snapshot r: inout SnapshotReader) throws(SnapshotError) {
        let count = try r.readCount(limit: .max, "id table count")
        let entries: [Entry] = try r.readArray()
        let old: [Entry] = try r.readArray()
        // A finished migration leaves its cursor behind; it only matters while `old` has slots.
        let cursor = try r.readCount(limit: .max, "id table migration cursor")
        guard old.isEmpty || cursor <= old.count else { throw SnapshotError("migration cursor \(cursor) of \(old.count) slots") }
        func isPowerOfTwo(_ n: Int) -> Bool { n > 0 && n & (n - 1) == 0 }
        guard entries.count >= 16, isPowerOfTwo(entries.count), old.isEmpty || isPowerOfTwo(old.count),
            count <= entries.count + old.count
        else {
            throw SnapshotError("an id table of \(entries.count) + \(old.count) slots holding \(count) ids")
        }
        self.init(capacity: 0)
        self.entries = SlotBuffer(entries)
        self.mask = entries.count - 1
        self.old = SlotBuffer(old)
        self.oldMask = old.isEmpty ? 0 : old.count - 1
        self.oldCursor = old.isEmpty ? 0 : cursor
        self.count = count
    }
}

extension Aggregator {
    /// What a checkpoint must have been written under to be read back by this build: the memory
    /// layout of the plain values it copies and every setting that changes what the windows hold.
    public var snapshotFingerprint: String {
        let c = configuration
        let prices = c.pricing.perThousandTokens.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return [
            "layout bucket=\(MemoryLayout<BucketState>.stride) entry=\(MemoryLayout<IdTable.Entry>.stride)"
                + " fine=\(Series.fineCapacity) coarse=\(Series.coarseCapacity)"
                + " distinct=\(DistinctCounter.fineCapacity)/\(DistinctCounter.coarseCapacity)",
            "dimensions " + c.dimensions.names.joined(separator: ","),
            "values per dimension \(c.maxValuesPerDimension)",
            "late after \(c.lateAfterSeconds) s",
            "prices " + prices.joined(separator: ",") + " default=\(c.pricing.defaultPerThousandTokens)",
        ].joined(separator: "; ")
    }
}
