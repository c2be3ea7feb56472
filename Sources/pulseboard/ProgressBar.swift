import Foundation

/// A one-line progress bar on stderr: percent, rate and ETA.
struct ProgressBar {
    let label: String
    let total: Double
    let unit: String
    let started = Date()
    var lastDraw = Date.distantPast
    let isTerminal = isatty(2) != 0

    init(label: String, total: Double, unit: String) {
        self.label = label
        self.total = total
        self.unit = unit
    }

    mutating func update(_ done: Double, detail: String) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= (isTerminal ? 0.2 : 5) else { return }
        lastDraw = now
        draw(done, detail: detail, end: isTerminal ? "\r" : "\n")
    }

    mutating func finish(detail: String) {
        draw(total, detail: detail, end: "\n")
    }

    func draw(_ done: Double, detail: String, end: String) {
        let elapsed = Date().timeIntervalSince(started)
        let fraction = total > 0 ? min(1, done / total) : 1
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let rate = elapsed > 0 ? done / elapsed : 0
        let eta = rate > 0 ? (total - done) / rate : 0
        let line = String(format: "%@ %@ %5.1f%%  %@  %.0f s elapsed, ETA %.0f s", label, bar, fraction * 100, detail, elapsed, eta)
        FileHandle.standardError.write(Data((line + "\u{1B}[K" + end).utf8))
    }
}
