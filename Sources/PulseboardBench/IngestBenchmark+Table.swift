import Foundation

extension IngestBenchmark {
    /// Renders step results as a fixed-width table, followed by one line per step that had errors,
    /// duplicates or rejected events.
    public static func formatTable(_ results: [StepResult]) -> String {
        let headers = ["offered ev/s", "achieved ev/s", "p50 ms", "p99 ms", "max ms", "requests", "errors", "queued"]
        let rows: [[String]] = results.map { r in
            [
                r.rate.description,
                String(Int(r.achievedEventsPerSecond.rounded())),
                formatMillis(r.p50Millis),
                formatMillis(r.p99Millis),
                formatMillis(r.maxMillis),
                String(r.requests),
                String(r.errorCount),
                String(r.queuedRequests),
            ]
        }
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "   ")
        }
        var lines = [line(headers)]
        lines.append(contentsOf: rows.map(line))
        for r in results {
            var notes: [String] = []
            if r.errorCount > 0 {
                let byKind = r.errors.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }
                notes.append("errors " + byKind.joined(separator: ", "))
            }
            if r.duplicateEvents > 0 { notes.append("\(r.duplicateEvents) duplicate events") }
            if r.rejectedEvents > 0 { notes.append("\(r.rejectedEvents) rejected events") }
            if !notes.isEmpty {
                lines.append("  \(r.rate): " + notes.joined(separator: "; "))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func formatMillis(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 10 { return String(format: "%.2f", value) }
        if value < 100 { return String(format: "%.1f", value) }
        return String(format: "%.0f", value)
    }
}
