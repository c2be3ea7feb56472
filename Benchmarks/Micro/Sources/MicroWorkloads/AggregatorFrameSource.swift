import PulseboardCore

/// A `FrameSource` over a bare `Aggregator`: live metrics only, no history (KPIs answer
/// "unsupported", as they do on a server without a rollup store).
struct AggregatorFrameSource: FrameSource {
    let aggregator: Aggregator

    func query(_ q: MetricQuery) -> Result<QueryResult, QueryError> {
        Result { () throws(QueryError) in try aggregator.query(q) }
    }

    func kpi(_ q: KPIQuery) -> Result<KPIResult, QueryError> {
        .failure(QueryError(.unsupported, "KPIs need history"))
    }
}
