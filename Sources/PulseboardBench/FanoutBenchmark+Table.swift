import Foundation

extension FanoutBenchmark {
    /// Column names of `formatTable` and `formatTSV`.
    static let columns = [
        "server", "transport", "N", "ready", "p50 ms", "p99 ms", "max ms", "delivered/expected", "errors", "srv CPU %",
        "idle CPU %", "CPU µs/dlv", "net µs/dlv", "RSS KiB/sub",
    ]

    /// Renders results as a fixed-width table (one row per run), followed by one line per run with
    /// errors, by reason.
    public static func formatTable(_ results: [Result]) -> String {
        let rows = results.map(cells)
        var widths = columns.map(\.count)
        for row in rows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                i < 2 ? cell + String(repeating: " ", count: widths[i] - cell.count)
                    : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: "  ")
        }
        var lines = [line(columns)]
        lines.append(contentsOf: rows.map(line))
        for r in results where r.errorCount > 0 {
            lines.append("  \(r.serverLabel) \(r.transport.rawValue) N=\(r.subscribers) errors: \(describe(r.errors))")
        }
        return lines.joined(separator: "\n")
    }

    /// One tab-separated line per result, same columns as the table (for scripts), no header.
    public static func formatTSV(_ results: [Result]) -> String {
        results.map { cells($0).joined(separator: "\t") }.joined(separator: "\n")
    }

    /// The column header of `formatTSV`.
    public static var tsvHeader: String { columns.joined(separator: "\t") }

    private static func cells(_ r: Result) -> [String] {
        [
            r.serverLabel, r.transport.rawValue, String(r.subscribers), String(r.ready),
            millis(r.p50Millis), millis(r.p99Millis), millis(r.maxMillis),
            "\(r.delivered)/\(r.expected)" + (r.expected > 0 ? String(format: " (%.1f%%)", Double(r.delivered) / Double(r.expected) * 100) : ""),
            String(r.errorCount),
            number(r.serverCPUPercent, decimals: 1), number(r.baselineCPUPercent, decimals: 1),
            number(r.cpuMicrosPerDelivery, decimals: 1), number(r.netCPUMicrosPerDelivery, decimals: 1),
            number(r.rssKiBPerSubscriber, decimals: 1),
        ]
    }

    static func millis(_ value: Double?) -> String {
        guard let value else { return "-" }
        if value < 10 { return String(format: "%.2f", value) }
        if value < 100 { return String(format: "%.1f", value) }
        return String(format: "%.0f", value)
    }

    static func number(_ value: Double?, decimals: Int) -> String {
        guard let value else { return "-" }
        return String(format: "%.\(decimals)f", value)
    }
}
