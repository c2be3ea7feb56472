import ArgumentParser
import Foundation
import PulseboardCore
import PulseboardEngine

/// `pulseboard generate`: writes realistic history as NDJSON (growth, weekly rhythm, a churn
/// wave, a model switch, an outage) for `pulseboard replay` and benchmarks.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write realistic historical events as NDJSON (.gz to compress)")

    @Option(help: "Days of history, ending now.")
    var days = 90

    @Option(help: "Distinct users.")
    var users = 50_000

    @Option(name: .customLong("events-per-day"), help: "Mean events per active user per day.")
    var eventsPerDay = 6.0

    @Option(help: "Random seed (same seed, same file).")
    var seed: UInt64 = 7

    @Option(help: "Output file; .gz compresses.")
    var out: String

    func validate() throws {
        guard (1...3650).contains(days) else { throw ValidationError("--days must be from 1 to 3650") }
        guard users >= 1 else { throw ValidationError("--users must be at least 1") }
        guard eventsPerDay > 0 else { throw ValidationError("--events-per-day must be positive") }
    }

    func run() throws {
        var settings = SyntheticHistory.Configuration()
        settings.days = days
        settings.users = users
        settings.eventsPerActiveDay = eventsPerDay
        settings.seed = seed
        settings.endMs = Int64(Date().timeIntervalSince1970 * 1000)
        var generator = SyntheticHistory(configuration: settings)
        let writer = try NDJSONFileWriter(path: out)
        var bar = ProgressBar(label: "generate", total: Double(days), unit: "days")
        var events = 0
        var chunk: [UInt8] = []
        for d in 0..<generator.days {
            chunk.removeAll(keepingCapacity: true)
            events += generator.appendDay(d, into: &chunk)
            try writer.write(chunk)
            bar.update(Double(d + 1), detail: "\(events) events")
        }
        try writer.close()
        bar.finish(detail: "\(events) events, \(writer.bytesWritten / 1_048_576) MiB → \(out)")
        let s = generator.story
        print("story: churn wave on day \(s.churnWaveDay), model switch on day \(s.modelSwitchDay), outage (13:00–15:00 UTC) on day \(s.outageDay) of \(days)")
    }
}
