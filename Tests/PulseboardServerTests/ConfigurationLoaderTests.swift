import Foundation
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite struct ConfigurationLoaderTests {
    func write(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "pb-config-\(UUID().uuidString).json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func fileThenEnvironmentThenFlags() throws {
        let file = write(#"{"ingest":{"max_body_bytes":1048576},"journal.write_policy":"durable","server":{"port":9000}}"#)
        let loader = ConfigurationLoader(environment: ["PULSEBOARD_SERVER_PORT": "9100", "PULSEBOARD_AGGREGATION_DIMENSIONS": "model_used, org_id", "HOME": "/root"])
        let c = try loader.load(file: file, fileRequired: true, overrides: ["server.port": "9200"])
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
        let path = write(file)
        do {
            _ = try ConfigurationLoader(environment: env).load(file: path, fileRequired: true)
            Issue.record("expected an error naming \(key)")
        } catch {
            #expect(error.key == key, "\(error.description)")
            #expect(!error.message.isEmpty)
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
