/// Why `FanoutBenchmark.run()` could not measure anything: bad options, no subscriber connected,
/// a worker process that failed, or an unreadable server process.
public enum FanoutBenchmarkError: Error, CustomStringConvertible, Sendable {
    case invalidOptions(String)
    case noSubscribers(String)
    case workerFailed(String)
    case serverProcess(String)

    public var description: String {
        switch self {
        case .invalidOptions(let message): "invalid options: \(message)"
        case .noSubscribers(let message): "no subscriber connected: \(message)"
        case .workerFailed(let message): "worker process failed: \(message)"
        case .serverProcess(let message): "cannot read the server process: \(message)"
        }
    }
}
