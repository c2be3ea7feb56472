import Foundation
import PulseboardCore
import Testing

@Suite struct HeatmapAndHistogramTests {
    /// A frame source with a fixed hour-of-week grid.
    struct GridSource: FrameSource {
        var grid: HourOfWeekGrid
        func query(_ q: MetricQuery) -> Result<QueryResult, QueryError> { .failure(QueryError(.unsupported, "none")) }
        func kpi(_ q: KPIQuery) -> Result<KPIResult, QueryError> { .failure(QueryError(.unsupported, "none")) }
        func hourOfWeek(filter: MetricQuery.Filter?, days: Int) -> Result<HourOfWeekGrid, QueryError> { .success(grid) }
    }

    static let spec = """
        { "id": "h", "title": "Heat", "widgets": [
          { "id": "busy", "type": "heatmap", "query": { "metric": "events", "window": "14d" } },
          { "id": "errors", "type": "heatmap", "query": { "metric": "error_rate" } } ] }
        """

    @Test func cellsAverageEachHourOfTheWeek() throws {
        let spec = try DashboardSpecParser().parse(Array(HeatmapAndHistogramTests.spec.utf8), fileId: "h").get()
        #expect(spec.widgets[0].heatmap == HeatmapQuery(metric: .events, window: "14d", days: 14))
        #expect(spec.widgets[1].heatmap?.days == 28)
        var grid = HourOfWeekGrid()
        // Monday 09:00 seen twice in the window: 31 events in all, 10 chats, 1 error.
        var r = Rollup()
        for _ in 0..<20 { r.add(RollupDelta(type: .custom)) }
        for _ in 0..<9 { r.add(RollupDelta(type: .chatInteraction)) }
        r.add(RollupDelta(type: .errorTracking))
        r.add(RollupDelta(type: .chatInteraction))
        grid.cells[9] = r
        grid.hours = [Int](repeating: 2, count: 168)
        let frame = FrameBuilder().widgets(spec, variables: [:], source: GridSource(grid: grid))
        let busy = frame["busy"]
        #expect(busy?["value"]?.number == 15.5)   // 31 events over 2 Monday-09:00 hours
        #expect(busy?["n"]?.number == 31)
        #expect(busy?["time_zone"] == .string("UTC"))
        guard case .array(let rows)? = busy?["cells"], case .array(let monday) = rows[0] else { Issue.record("no cells"); return }
        #expect(rows.count == 7 && monday.count == 24)
        #expect(monday[9].number == 15.5)
        #expect(monday[8].number == 0)
        #expect(frame["errors"]?["value"]?.number == 0.1)   // 1 error per 10 chats
    }

    @Test func cellOfAnHourFollowsTheLocalWeek() {
        // 2026-11-30 is a Monday; 00:00 UTC is Monday 01:00 in Paris (UTC+1) and Sunday 19:00 in New York.
        let t: Int64 = 1_796_000_000 - 1_796_000_000 % 86_400
        #expect(LocalCalendar.weekday(ofDay: t / 86_400) == 0)
        #expect(HourOfWeekGrid.cell(ofSecond: t, offset: 0) == 0)
        #expect(HourOfWeekGrid.cell(ofSecond: t, offset: 3600) == 1)
        #expect(HourOfWeekGrid.cell(ofSecond: t, offset: -5 * 3600) == 6 * 24 + 19)
    }

    @Test(arguments: [
        (#""window": "14d""#, #""window": "3d""#, "$.widgets[0].query.window", "whole days from 7d to 90d"),
        (#""metric": "events""#, #""metric": "active_users""#, "$.widgets[0].query.metric", "a heatmap shows one of events"),
    ])
    func badHeatmapQueriesSayWhy(find: String, replace: String, path: String, message: String) {
        let text = HeatmapAndHistogramTests.spec.replacingOccurrences(of: find, with: replace)
        guard case .failure(let e) = DashboardSpecParser().parse(Array(text.utf8), fileId: "h") else { Issue.record("expected an error"); return }
        #expect(e.errors.contains { $0.path == path && $0.message.contains(message) }, "\(e.errors)")
    }

    @Test func histogramBarsCountEveryValue() {
        var s = QuantileSketch()
        // 100 values at 50 ms, 100 at 150 ms, 10 at 950 ms.
        for (v, n) in [(50.0, 100), (150.0, 100), (950.0, 10)] {
            for _ in 0..<n { s.add(key: QuantileSketch.key(for: v)) }
        }
        let bars = s.histogram(bins: 10)
        #expect(bars.count == 10)
        #expect(bars.reduce(0) { $0 + $1.count } == 210)
        #expect(bars[0].lower == 0 && bars[0].upper == 100)   // p99.5 ≈ 950 → 95 per bar → a round 100
        #expect(bars[0].count == 100)
        #expect(bars[1].count == 100)
        #expect(bars[9].count == 10)
        #expect(QuantileSketch().histogram(bins: 10).isEmpty)
    }
}

extension JSONValue {
    fileprivate var number: Double? { if case .number(let d) = self { d } else { nil } }
}
