import Foundation

extension IngestBenchmark {
    /// Column names of `formatTable` and `formatTSV`. `events` are the events acknowledged for the
    /// step's measured requests, `seconds` its measurement window (with `--events`: from the first
    /// request to the last answer).
    static let columns = [
        "target", "offered ev/s", "achieved ev/s", "p50 ms", "p99 ms", "max ms", "requests", "errors", "queued", "events",
        "seconds",
    ]

    /// Renders step results as a fixed-width table, followed by one line per step that had errors,
    /// duplicates or rejected events.
    public static func formatTable(_ results: [StepResult]) -> String {
        let rows = results.map(cells)
        var widths = columns.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i == 0 ? cell + String(repeating: " ", count: widths[i] - cell.count)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "   ")
        }
        var lines = [line(columns)]
        lines.append(contentsOf: rows.map(line))
        for r in results {
            var notes: [String] = []
            if r.errorCount > 0 {
                let byKind = r.errors.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }
                notes.append("errors " + byKind.joined(separator: ", "))
            }
            if r.duplicateEvents > 0 { notes.append("\(r.duplicateEvents) duplicate events") }
            if r.rejectedEvents > 0 { notes.append("\(r.rejectedEvents) rejected events") }
            if let budget = r.eventBudget, r.acceptedEvents != budget {
                notes.append("\(r.acceptedEvents) of \(budget) events acknowledged")
            }
            if !notes.isEmpty {
                lines.append("  \(r.target) \(r.rate): " + notes.joined(separator: "; "))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// One tab-separated line per step, same columns as the table (for scripts), no header.
    public static func formatTSV(_ results: [StepResult]) -> String {
        results.map { cells($0).joined(separator: "\t") }.joined(separator: "\n")
    }

    /// The column header of `formatTSV`.
    public static var tsvHeader: String { columns.joined(separator: "\t") }

    private static func cells(_ r: StepResult) -> [String] {
        [
            r.target.rawValue,
            r.rate.description,
            String(Int(r.achievedEventsPerSecond.rounded())),
            formatMillis(r.p50Millis),
            formatMillis(r.p99Millis),
            formatMillis(r.maxMillis),
            String(r.requests),
            String(r.errorCount),
            String(r.queuedRequests),
            String(r.acceptedEvents),
            String(format: "%.2f", r.durationSeconds),
        ]
    }

    static func formatMillis(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 10 { return String(format: "%.2f", value) }
        if value < 100 { return String(format: "%.1f", value) }
        return String(format: "%.0f", value)
    }
}
