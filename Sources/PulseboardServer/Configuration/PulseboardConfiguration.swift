import Foundation
import Logging
import PulseboardCore
import PulseboardEngine

/// The whole server configuration, nested per part. Defaults are the documented ones; `load`
/// overlays the JSON file, `PULSEBOARD_*` environment variables and command-line flags, in that
/// order, and fails fast naming the offending key.
public struct PulseboardConfiguration: Sendable {
    /// Listener settings.
    public struct Server: Sendable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var maxConnections = 16_000
        public var backlog = 4096
        public var corsAllowedOrigins: [String] = []
    }

    /// Filesystem locations.
    public struct Paths: Sendable {
        public var dataDir = "./data"
        public var dashboards = "dashboards"
        public var publicDir = "public"
    }

    /// Where alert rules live and how they run.
    public struct Alerts: Sendable {
        public var rulesFile = "config/alerts.json"
        public var evaluateIntervalMs = 1000
        public var historyLimit = 1000
    }

    public var server = Server()
    public var paths = Paths()
    public var ingest = IngestConfiguration()
    public var journal = JournalConfiguration()
    public var aggregation = Aggregator.Configuration()
    public var push = PushConfiguration()
    public var history = HistoryConfiguration()
    public var alerts = Alerts()
    /// Industry benchmarks per KPI (`kpi.benchmarks_file`).
    public var benchmarksFile = "config/benchmarks.json"
    /// Days of history `--demo` seeds on an empty data directory.
    public var demoHistoryDays = 400
    public var apiKeys: [APIKey] = []
    public var logLevel = "info"
    public var demo = SyntheticTraffic.Configuration()

    public init() {
        aggregation.pricing = Pricing(
            perThousandTokens: ["gpt-4o": 0.005, "gpt-4o-mini": 0.0006, "claude-sonnet": 0.006, "llama-3-70b": 0.0009],
            defaultPerThousandTokens: 0.002)
    }

    /// Whether `host` only accepts connections from this machine.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// Checks cross-key rules (run after loading).
    public func validate() throws(ConfigurationError) {
        if !PulseboardConfiguration.isLoopback(server.host) && apiKeys.isEmpty {
            throw ConfigurationError(
                key: "auth.keys",
                "refusing to bind to \(server.host) with no API keys: anyone on the network could write events. Configure auth.keys (or PULSEBOARD_AUTH_KEYS), or bind to 127.0.0.1")
        }
        var names = Set<String>()
        for k in apiKeys {
            guard names.insert(k.name).inserted else { throw ConfigurationError(key: "auth.keys", "duplicate key name '\(k.name)'") }
        }
    }
}
