extension Aggregator {
    /// Answers `query` from the live windows (O(1) for standard windows without grouping).
    public func query(_ q: MetricQuery) throws(QueryError) -> QueryResult {
        let dims = configuration.dimensions
        try q.validate(against: dims)
        var base = root
        var typeFilter: EventType? = nil
        var empty = false
        if let f = q.filter, let d = dims.index(of: f.key) {
            if q.groupBy != nil {
                typeFilter = EventType(name: f.value)
            } else if let i = groups[d].lookup(f.value) {
                base = groups[d].series[i]
            } else {
                empty = true
            }
        }

        if let g = q.groupBy, let d = dims.index(of: g) {
            return grouped(q, dimension: d, overall: root, typeFilter: typeFilter)
        }
        return single(q, series: base, typeFilter: typeFilter, empty: empty)
    }

    /// The answer over one series; `empty` answers for a filter value never seen (the series'
    /// bucket geometry with no data), without allocating a series for it.
    func single(_ q: MetricQuery, series: Series, typeFilter: EventType?, empty: Bool = false) -> QueryResult {
        let (ring, length) = series.ring(forWindow: q.windowSeconds)
        let needsSketch = q.metric == .responseTimeMs && q.aggregation.hasPrefix("p")
        let (state, sketch) = empty ? (BucketState(), QuantileSketch()) : ring.window(length: length, withSketch: needsSketch)
        var rateState = state
        let value: Double?
        if empty && q.metric.isDistinct {
            value = 0
        } else if q.metric.isDistinct {
            value = Double(distinct(q.metric, series).count(windowSeconds: q.windowSeconds))
        } else if q.metric.isRate, !empty, let span = partialRateSpan(ring, length: length) {
            rateState = ring.window(length: span.buckets, withSketch: false).0
            value = Aggregator.evaluate(q, state: rateState, sketch: sketch, seconds: span.seconds, typeFilter: typeFilter)
        } else {
            value = Aggregator.evaluate(q, state: state, sketch: sketch, seconds: Double(q.windowSeconds), typeFilter: typeFilter)
        }
        var points: [QueryResult.Point]? = nil
        if q.metric.hasSeries {
            var list: [QueryResult.Point] = []
            list.reserveCapacity(length)
            ring.forEachBucket(length: length) { b, st, sk in
                let start = b * ring.width
                // A bucket that began before the windows' first event is unknown, not zero;
                // so is the one it fell in, which saw only the end of its span.
                if start <= coveredSince {
                    list.append(.init(start: start, value: nil))
                    return
                }
                let (st, sk) = empty ? (BucketState(), QuantileSketch()) : (st, sk)
                list.append(.init(start: start, value: Aggregator.evaluate(q, state: st, sketch: sk, seconds: Double(ring.width), typeFilter: typeFilter)))
            }
            points = list
        }
        var result = QueryResult(
            query: q, value: value, series: points, bucketSeconds: Int(ring.width), groups: nil,
            sampleSize: Aggregator.sampleSize(q.metric, rateState, typeFilter))
        if q.wantsHistogram && needsSketch && !empty { result.histogram = sketch.histogram(bins: Aggregator.histogramBins) }
        return result
    }

    func grouped(_ q: MetricQuery, dimension d: Int, overall: Series, typeFilter: EventType?) -> QueryResult {
        let needsSketch = q.metric == .responseTimeMs && q.aggregation.hasPrefix("p")
        let dg = groups[d]
        var rows: [(index: Int, value: Double?, state: BucketState, sketch: QuantileSketch)] = []
        // Every series' rings stand at the same bucket: one span for all the groups.
        let (overallRing, overallLength) = overall.ring(forWindow: q.windowSeconds)
        let span = q.metric.isRate ? partialRateSpan(overallRing, length: overallLength) : nil
        let seconds = span?.seconds ?? Double(q.windowSeconds)
        for (i, s) in dg.series.enumerated() {
            let (ring, length) = s.ring(forWindow: q.windowSeconds)
            let (state, sketch) = ring.window(length: span?.buckets ?? length, withSketch: needsSketch)
            let v: Double?
            if q.metric.isDistinct {
                v = Double(distinct(q.metric, s).count(windowSeconds: q.windowSeconds))
                if v == 0 { continue }
            } else {
                if state.events == 0 && state.late == 0 { continue }
                v = Aggregator.evaluate(q, state: state, sketch: sketch, seconds: seconds, typeFilter: typeFilter)
            }
            rows.append((i, v, state, sketch))
        }
        rows.sort { a, b in
            switch (a.value, b.value) {
            case let (x?, y?): return x != y ? x > y : dg.names[a.index] < dg.names[b.index]
            case (.some, nil): return true
            case (nil, .some): return false
            default: return dg.names[a.index] < dg.names[b.index]
            }
        }
        var out: [QueryResult.Group] = []
        var restState = BucketState()
        var restSketch = QuantileSketch()
        var rest = 0
        for row in rows {
            if out.count < q.top && row.index != dg.otherIndex {
                out.append(.init(name: dg.names[row.index], value: row.value))
            } else {
                rest += 1
                restState.add(row.state)
                restSketch.merge(row.sketch)
            }
        }
        if rest > 0 && !q.metric.isDistinct {
            out.append(.init(name: DimensionGroups.otherName, value: Aggregator.evaluate(q, state: restState, sketch: restSketch, seconds: seconds, typeFilter: typeFilter)))
        }
        var total = single(q, series: overall, typeFilter: typeFilter)
        total.series = nil
        total.groups = out
        return total
    }

    /// While the windows' first event lies inside a rate's window, the rate counts only the
    /// buckets after the one that event fell in (at least the open one): the part known in full,
    /// whatever late events say about earlier seconds. Returns those buckets and the seconds
    /// they span, or nil when the window is covered whole.
    func partialRateSpan(_ ring: BucketRing, length: Int) -> (buckets: Int, seconds: Double)? {
        guard coveredSince <= second else { return nil }
        let after = ring.current - DistinctCounter.floorDiv(coveredSince, ring.width)
        guard after < Int64(length) else { return nil }
        let k = max(1, after)
        return (Int(k), Double(k * ring.width))
    }

    /// Bars of a `distribution` widget's histogram.
    public static let histogramBins = 24

    func distinct(_ m: Metric, _ s: Series) -> DistinctCounter {
        switch m {
        case .activeSessions: s.sessions
        case .activeThreads: s.threads
        default: s.users
        }
    }

    /// The value of a metric over merged state (a window, a bucket or a group).
    public static func evaluate(_ q: MetricQuery, state: BucketState, sketch: QuantileSketch, seconds: Double, typeFilter: EventType?) -> Double? {
        func count(_ t: EventType) -> Double { typeFilter == nil || typeFilter == t ? Double(state[t]) : 0 }
        let chatOnly = typeFilter == nil || typeFilter == .chatInteraction
        switch q.metric {
        case .events: return Double(typeFilter.map { state[$0] } ?? state.events)
        case .eventsPerSec: return Double(typeFilter.map { state[$0] } ?? state.events) / seconds
        case .messagesPerSec: return count(.chatInteraction) / seconds
        case .featureUsage: return count(.featureUsage)
        case .lateEvents: return Double(state.late)
        case .tokens: return chatOnly ? state.tokens : 0
        case .spendUSD: return chatOnly ? state.spendUSD : 0
        case .responseTimeMs:
            guard chatOnly, state.responseCount > 0 else { return nil }
            switch q.aggregation {
            case "avg": return state.responseSumMs / Double(state.responseCount)
            case "max": return state.responseMax
            case "p50": return sketch.quantile(0.50)
            case "p90": return sketch.quantile(0.90)
            case "p95": return sketch.quantile(0.95)
            case "p99": return sketch.quantile(0.99)
            default: return nil
            }
        case .errorRate:
            if q.aggregation == "failed" {
                let perf = typeFilter == nil || typeFilter == .performanceMetric
                let feat = typeFilter == nil || typeFilter == .featureUsage
                let total = (perf ? Double(state[.performanceMetric]) : 0) + (feat ? Double(state[.featureUsage]) : 0)
                guard total > 0 else { return nil }
                return ((perf ? Double(state.failedPerformance) : 0) + (feat ? Double(state.failedFeatures) : 0)) / total
            }
            let chats = Double(state[.chatInteraction])
            guard chats > 0 else { return nil }
            return Double(state[.errorTracking]) / chats
        case .activeUsers, .activeSessions, .activeThreads:
            return nil
        }
    }

    /// `n`: the events behind the value (the chats behind a message rate, tokens or spend).
    static func sampleSize(_ m: Metric, _ state: BucketState, _ typeFilter: EventType?) -> Int {
        func only(_ t: EventType) -> Int { typeFilter == nil || typeFilter == t ? Int(state[t]) : 0 }
        switch m {
        case .responseTimeMs: return Int(state.responseCount)
        case .errorRate: return Int(state[.chatInteraction] + state[.performanceMetric] + state[.featureUsage])
        case .lateEvents: return Int(state.late)
        case .messagesPerSec, .tokens, .spendUSD: return only(.chatInteraction)
        case .featureUsage: return only(.featureUsage)
        default: return Int(typeFilter.map { state[$0] } ?? state.events)
        }
    }
}
