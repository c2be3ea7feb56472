import Foundation
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite struct ConfigurationLoaderTests {
    /// Writes `text` to a temporary file for the length of `body`.
    func withFile<T>(_ text: String, _ body: (String) throws -> T) rethrows -> T {
        let path = NSTemporaryDirectory() + "pb-config-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    @Test func fileThenEnvironmentThenFlags() throws {
        let loader = ConfigurationLoader(environment: ["PULSEBOARD_SERVER_PORT": "9100", "PULSEBOARD_AGGREGATION_DIMENSIONS": "model_used, org_id", "HOME": "/root"])
        let c = try withFile(#"{"ingest":{"max_body_bytes":1048576},"journal.write_policy":"durable","server":{"port":9000}}"#) {
            try loader.load(file: $0, fileRequired: true, overrides: ["server.port": "9200"])
        }
        #expect(c.ingest.limits.maxBodyBytes == 1_048_576)
        #expect(c.journal.writePolicy == .durable)
        #expect(c.server.port == 9200)
        #expect(c.aggregation.dimensions.names == ["event_type", "model_used", "org_id"])
    }

    @Test(arguments: [
        (#"{"ingest":{"max_body_byte":1}}"#, [String: String](), "ingest.max_body_byte"),
        (#"{"journal":{"write_policy":"fast"}}"#, [:], "journal.write_policy"),
        (#"{"server":{"port":"80"}}"#, [:], "server.port"),
        (#"{"ingest":{"max_events_per_batch":0}}"#, [:], "ingest.max_events_per_batch"),
        (#"{"auth":{"keys":[{"name":"a","secret":"short","scopes":["ingest"]}]}}"#, [:], "auth.keys"),
        (#"{"auth":{"keys":[{"name":"a","secret":"long-enough-secret-1","scopes":["write"]}]}}"#, [:], "auth.keys"),
        ("{ nope", [:], "--config"),
        ("{}", ["PULSEBOARD_INGEST_STRICT": "maybe"], "ingest.strict"),
        ("{}", ["PULSEBOARD_NOT_A_KEY": "1"], "PULSEBOARD_NOT_A_KEY"),
        ("{}", ["PULSEBOARD_SERVER_HOST": "0.0.0.0"], "auth.keys"),
    ])
    func badConfigurationNamesTheKey(file: String, env: [String: String], key: String) {
        withFile(file) { path in
            do throws(ConfigurationError) {
                _ = try ConfigurationLoader(environment: env).load(file: path, fileRequired: true)
                Issue.record("expected an error naming \(key)")
            } catch {
                #expect(error.key == key, "\(error.description)")
                #expect(!error.message.isEmpty)
            }
        }
    }

    @Test func shippedConfigFileLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try ConfigurationLoader(environment: [:]).load(file: root.path + "/config/pulseboard.json", fileRequired: true)
        #expect(c.server.host == "127.0.0.1")
        #expect(c.journal.writePolicy == .batched)
    }

    @Test func everyKeyIsDocumentedInTheReadme() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOfFile: root.path + "/README.md", encoding: .utf8)
        for key in ConfigurationKey.all {
            #expect(readme.contains("`\(key.key)`"), "README lacks \(key.key)")
            #expect(readme.contains(key.environmentName), "README lacks \(key.environmentName)")
        }
    }
}
