import Foundation

/// A child process running `pulseboard bench fanout --worker <settings JSON>`, driven over pipes:
/// it prints `ready <ConnectSummary JSON>` once connected, then for each `go <start µs> <end µs>
/// <grace µs> <last 0|1>` on stdin prints `report <FanoutWorkerReport JSON>`; it exits after the last. It also exits
/// when its stdin closes, so it never outlives its parent.
final class FanoutWorkerProcess: FanoutWorkerControl {
    private let process: Process
    private let input: FileHandle
    private let lines: FanoutLineReader
    private let label: String

    init(command: [String], settings: FanoutWorker.Settings, label: String) throws {
        guard let executable = command.first else { throw FanoutBenchmarkError.invalidOptions("no worker command") }
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(command.dropFirst()) + [json]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            throw FanoutBenchmarkError.workerFailed("cannot start \(executable): \(error)")
        }
        self.process = process
        self.label = label
        input = stdin.fileHandleForWriting
        lines = FanoutLineReader(stdout.fileHandleForReading)
    }

    func connect() async throws -> FanoutSubscriberGroup.ConnectSummary {
        try await expect("ready", FanoutSubscriberGroup.ConnectSummary.self)
    }

    func measure(window: Range<Int64>, graceMicros: Int64, last: Bool) async throws -> FanoutWorkerReport {
        do {
            try input.write(contentsOf: Data("go \(window.lowerBound) \(window.upperBound) \(graceMicros) \(last ? 1 : 0)\n".utf8))
        } catch {
            throw FanoutBenchmarkError.workerFailed("\(label): cannot write to it: \(error)")
        }
        return try await expect("report", FanoutWorkerReport.self)
    }

    func shutdown() async {
        try? input.close()
        // The worker exits by itself once its report is out or its stdin is closed.
        for _ in 0..<100 where process.isRunning {
            try? await Task.sleep(nanoseconds: 100_000_000)
        }
        if process.isRunning { process.terminate() }
    }

    private func expect<T: Decodable>(_ tag: String, _ type: T.Type) async throws -> T {
        guard let line = await lines.next() else {
            throw FanoutBenchmarkError.workerFailed("\(label) ended before sending \"\(tag)\"")
        }
        guard line.hasPrefix(tag + " ") else {
            throw FanoutBenchmarkError.workerFailed("\(label): expected \"\(tag)\", got \"\(line.prefix(200))\"")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(line.utf8.dropFirst(tag.utf8.count + 1)))
        } catch {
            throw FanoutBenchmarkError.workerFailed("\(label): bad \"\(tag)\" line: \(error)")
        }
    }
}
