import Foundation
import Logging
import PulseboardCore
import PulseboardEngine

/// Reads `PulseboardConfiguration` from a JSON file, the environment and flag overrides.
///
/// File keys may be nested (`{"ingest": {"max_body_bytes": 1048576}}`) or dotted
/// (`{"ingest.max_body_bytes": 1048576}`). Unknown keys, wrong types and out-of-range values
/// are errors that name the key.
public struct ConfigurationLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads the configuration. A missing file is an error only when `fileRequired`.
    public func load(file: String?, fileRequired: Bool, overrides: [String: String] = [:]) throws(ConfigurationError) -> PulseboardConfiguration {
        var config = PulseboardConfiguration()
        if let file {
            if FileManager.default.fileExists(atPath: file) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ConfigurationError(key: "--config", "cannot read \(file)")
                }
                let root: JSONValue
                do { root = try JSONValue.parse(Array(data)) } catch {
                    throw ConfigurationError(key: "--config", "\(file) is not valid JSON: \(error.description)")
                }
                guard case .object = root else { throw ConfigurationError(key: "--config", "\(file) must hold a JSON object") }
                var flat: [(String, JSONValue)] = []
                try flatten(root, prefix: "", into: &flat, file: file)
                for (key, value) in flat { try apply(key, value, source: file, to: &config) }
            } else if fileRequired {
                throw ConfigurationError(key: "--config", "file \(file) does not exist")
            }
        }
        let known = Dictionary(uniqueKeysWithValues: ConfigurationKey.all.map { ($0.environmentName, $0) })
        for (name, text) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("PULSEBOARD_") {
            guard let key = known[name] else {
                throw ConfigurationError(key: name, "unknown environment variable; configuration variables are " + ConfigurationKey.all.map(\.environmentName).joined(separator: ", "))
            }
            try apply(key.key, try parseText(text, for: key, source: name), source: name, to: &config)
        }
        for (keyName, text) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let key = ConfigurationKey.all.first(where: { $0.key == keyName }) else { continue }
            try apply(key.key, try parseText(text, for: key, source: "command line"), source: "command line", to: &config)
        }
        try config.validate()
        return config
    }

    func flatten(_ value: JSONValue, prefix: String, into out: inout [(String, JSONValue)], file: String) throws(ConfigurationError) {
        guard case .object(let members) = value else { return }
        for (name, v) in members {
            let key = prefix.isEmpty ? name : prefix + "." + name
            if ConfigurationKey.all.contains(where: { $0.key == key }) {
                out.append((key, v))
            } else if case .object = v, ConfigurationKey.all.contains(where: { $0.key.hasPrefix(key + ".") }) {
                try flatten(v, prefix: key, into: &out, file: file)
            } else {
                throw ConfigurationError(key: key, "unknown configuration key; known keys are " + ConfigurationKey.all.map(\.key).joined(separator: ", "), source: file)
            }
        }
    }

    /// Turns an environment or flag string into a JSON value of the key's kind.
    func parseText(_ text: String, for key: ConfigurationKey, source: String) throws(ConfigurationError) -> JSONValue {
        switch key.kind {
        case .string, .oneOf: return .string(text)
        case .bool:
            switch text.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: throw ConfigurationError(key: key.key, "must be true or false (got '\(text)')", source: source)
            }
        case .integer, .number:
            guard let v = Double(text) else { throw ConfigurationError(key: key.key, "must be a number (got '\(text)')", source: source) }
            return .number(v)
        case .stringList:
            if text.hasPrefix("[") {
                do { return try JSONValue.parse(text) } catch {
                    throw ConfigurationError(key: key.key, "not a JSON array: \(error.description)", source: source)
                }
            }
            return .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 != .string("") })
        case .stringNumberMap, .apiKeys:
            do { return try JSONValue.parse(text) } catch {
                throw ConfigurationError(key: key.key, "must be JSON: \(error.description)", source: source)
            }
        }
    }

    func apply(_ keyName: String, _ value: JSONValue, source: String, to c: inout PulseboardConfiguration) throws(ConfigurationError) {
        guard let key = ConfigurationKey.all.first(where: { $0.key == keyName }) else {
            throw ConfigurationError(key: keyName, "unknown configuration key", source: source)
        }
        func fail(_ message: String) -> ConfigurationError { ConfigurationError(key: keyName, message, source: source) }
        func int() throws(ConfigurationError) -> Int {
            guard case .integer(let range) = key.kind else { throw fail("internal: not an integer key") }
            guard case .number(let d) = value, d == d.rounded(), abs(d) < 1e18 else { throw fail("must be an integer, got \(value.typeName)") }
            guard range.contains(Int(d)) else { throw fail("must be from \(range.lowerBound) to \(range.upperBound) (got \(Int(d)))") }
            return Int(d)
        }
        func number() throws(ConfigurationError) -> Double {
            guard case .number(let range) = key.kind else { throw fail("internal: not a number key") }
            guard case .number(let d) = value else { throw fail("must be a number, got \(value.typeName)") }
            guard range.contains(d) else { throw fail("must be from \(range.lowerBound) to \(range.upperBound) (got \(d))") }
            return d
        }
        func string() throws(ConfigurationError) -> String {
            guard case .string(let s) = value else { throw fail("must be a string, got \(value.typeName)") }
            if case .oneOf(let allowed) = key.kind, !allowed.contains(s) {
                throw fail("must be one of \(allowed.joined(separator: ", ")) (got '\(s)')")
            }
            return s
        }
        func bool() throws(ConfigurationError) -> Bool {
            guard case .bool(let b) = value else { throw fail("must be true or false, got \(value.typeName)") }
            return b
        }
        func strings() throws(ConfigurationError) -> [String] {
            guard case .array(let items) = value else { throw fail("must be an array of strings, got \(value.typeName)") }
            var out: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let s) = item, !s.isEmpty else { throw fail("item \(i) must be a non-empty string") }
                out.append(s)
            }
            return out
        }

        switch keyName {
        case "server.host": c.server.host = try string()
        case "server.port": c.server.port = try int()
        case "server.max_connections": c.server.maxConnections = try int()
        case "server.backlog": c.server.backlog = try int()
        case "server.cors_allowed_origins": c.server.corsAllowedOrigins = try strings()
        case "paths.data_dir": c.paths.dataDir = try string()
        case "paths.dashboards": c.paths.dashboards = try string()
        case "paths.public": c.paths.publicDir = try string()
        case "ingest.max_body_bytes": c.ingest.limits.maxBodyBytes = try int()
        case "ingest.max_events_per_batch": c.ingest.limits.maxEventsPerBatch = try int()
        case "ingest.max_events_per_user_per_minute": c.ingest.maxEventsPerUserPerMinute = try int()
        case "ingest.max_properties": c.ingest.limits.maxProperties = try int()
        case "ingest.max_properties_bytes": c.ingest.limits.maxPropertiesBytes = try int()
        case "ingest.max_future_seconds": c.ingest.limits.maxFutureSeconds = try int()
        case "ingest.strict": c.ingest.limits.strict = try bool()
        case "ingest.dedup_horizon_seconds": c.ingest.dedupHorizonSeconds = try int()
        case "ingest.dedup_max_ids": c.ingest.dedupMaxIds = try int()
        case "journal.write_policy": c.journal.writePolicy = JournalConfiguration.WritePolicy(rawValue: try string()) ?? .batched
        case "journal.fsync_interval_ms": c.journal.fsyncIntervalMs = try int()
        case "journal.segment_bytes": c.journal.segmentBytes = try int()
        case "retention.raw_days": c.journal.retentionDays = try int()
        case "aggregation.dimensions":
            let names = try strings()
            guard names.count <= DimensionSet.maxCount else { throw fail("at most \(DimensionSet.maxCount) dimensions (got \(names.count))") }
            c.aggregation.dimensions = DimensionSet(names)
        case "aggregation.max_values_per_dimension": c.aggregation.maxValuesPerDimension = try int()
        case "aggregation.late_after_seconds": c.aggregation.lateAfterSeconds = try int()
        case "pricing.per_1k_tokens":
            guard case .object(let members) = value else { throw fail("must be an object of model name to USD per 1,000 tokens, got \(value.typeName)") }
            var prices: [String: Double] = [:]
            for (model, v) in members {
                guard case .number(let p) = v, p >= 0 else { throw fail("price of '\(model)' must be a number ≥ 0") }
                prices[model] = p
            }
            c.aggregation.pricing = Pricing(perThousandTokens: prices, defaultPerThousandTokens: c.aggregation.pricing.defaultPerThousandTokens)
        case "pricing.default_per_1k_tokens":
            c.aggregation.pricing = Pricing(perThousandTokens: c.aggregation.pricing.perThousandTokens, defaultPerThousandTokens: try number())
        case "auth.keys":
            guard case .array(let items) = value else { throw fail("must be an array of {name, secret, scopes}, got \(value.typeName)") }
            var keys: [APIKey] = []
            for (i, item) in items.enumerated() {
                guard case .string(let name)? = item["name"], !name.isEmpty else { throw fail("[\(i)].name must be a non-empty string") }
                guard case .string(let secret)? = item["secret"], secret.count >= 16 else {
                    throw fail("[\(i)].secret must be a string of at least 16 characters")
                }
                guard case .array(let scopeValues)? = item["scopes"], !scopeValues.isEmpty else {
                    throw fail("[\(i)].scopes must be a non-empty array of ingest, read, admin")
                }
                var scopes = Set<APIKey.Scope>()
                for s in scopeValues {
                    guard case .string(let text) = s, let scope = APIKey.Scope(rawValue: text) else {
                        throw fail("[\(i)].scopes may hold only ingest, read, admin")
                    }
                    scopes.insert(scope)
                }
                keys.append(APIKey(name: name, secret: secret, scopes: scopes))
            }
            c.apiKeys = keys
        case "push.subscriber_buffer_bytes": c.push.subscriberBufferBytes = try int()
        case "push.delta_retention_seconds": c.push.deltaRetentionSeconds = try int()
        case "push.heartbeat_seconds": c.push.heartbeatSeconds = try int()
        case "push.max_topics": c.push.maxTopics = try int()
        case "push.max_subscriptions_per_connection": c.push.maxSubscriptionsPerConnection = try int()
        case "push.unwritable_timeout_seconds": c.push.unwritableTimeoutSeconds = try int()
        case "push.max_streams": c.push.maxStreams = try int()
        case "push.direct_writes": c.push.directWrites = try bool()
        case "push.phase_size": c.push.phaseSize = try int()
        case "push.max_phases": c.push.maxPhases = try int()
        case "history.time_zone":
            let zone = try string()
            guard LocalCalendar(identifier: zone) != nil else { throw fail("unknown time zone '\(zone)'; use an IANA name such as UTC, Europe/Paris, America/New_York") }
            c.history.timeZone = zone
        case "history.flush_interval_ms": c.history.flushIntervalMs = try int()
        case "history.minute_retention_days": c.history.minuteRetentionDays = try int()
        case "history.hour_retention_days": c.history.hourRetentionDays = try int()
        case "history.day_retention_days": c.history.dayRetentionDays = try int()
        case "history.active_event_types":
            var types: [EventType] = []
            for name in try strings() {
                guard let t = name == "custom" ? .custom : EventType(name: name) else {
                    throw fail("unknown event type '\(name)'; one of " + (EventType.seedTypes.map(\.name) + ["custom"]).joined(separator: ", "))
                }
                types.append(t)
            }
            c.history.activeEventTypes = types
        case "kpi.benchmarks_file": c.benchmarksFile = try string()
        case "alerts.rules_file": c.alerts.rulesFile = try string()
        case "alerts.evaluate_interval_ms": c.alerts.evaluateIntervalMs = try int()
        case "alerts.history_limit": c.alerts.historyLimit = try int()
        case "demo.history_days": c.demoHistoryDays = try int()
        case "log.level": c.logLevel = try string()
        case "demo.users": c.demo.users = try int()
        case "demo.peak_events_per_second": c.demo.peakEventsPerSecond = try number()
        default: throw fail("unknown configuration key")
        }
    }
}
