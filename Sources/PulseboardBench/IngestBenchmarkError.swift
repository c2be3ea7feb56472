/// Why `IngestBenchmark.run()` could not measure anything: bad options, an unreachable server, or a
/// server that refuses the benchmark's requests.
public enum IngestBenchmarkError: Error, CustomStringConvertible, Sendable {
    case invalidOptions(String)
    case invalidPool(String)
    case connectFailed(host: String, port: Int, underlying: String)
    case preflightFailed(String)

    public var description: String {
        switch self {
        case .invalidOptions(let message): "invalid options: \(message)"
        case .invalidPool(let message): "could not build the request pool: \(message)"
        case .connectFailed(let host, let port, let underlying): "could not connect to \(host):\(port): \(underlying)"
        case .preflightFailed(let message): "preflight request failed: \(message)"
        }
    }
}
