import ArgumentParser
import Foundation
import Hummingbird
import Logging
import PulseboardServer

/// `pulseboard serve`: runs the server until SIGTERM/SIGINT, then shuts down gracefully
/// (HTTP first, then the journal is fsynced and closed).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (the default command).")

    @Option(help: "Address to bind (config server.host, env PULSEBOARD_SERVER_HOST).")
    var host: String?

    @Option(help: "Port to listen on (config server.port, env PULSEBOARD_SERVER_PORT).")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Journal directory (config paths.data_dir). Default ./data.")
    var dataDir: String?

    @Option(help: "JSON configuration file.")
    var config: String = "config/pulseboard.json"

    @Option(help: "Dashboard specs directory (config paths.dashboards). Default dashboards.")
    var dashboards: String?

    @Option(name: .customLong("public"), help: "Static files directory (config paths.public). Default public.")
    var publicDir: String?

    @Flag(help: "Generate realistic live demo traffic (~2,000 users, daily rhythm, error bursts).")
    var demo = false

    func run() async throws {
        var overrides: [String: String] = [:]
        if let host { overrides["server.host"] = host }
        if let port { overrides["server.port"] = String(port) }
        if let dataDir { overrides["paths.data_dir"] = dataDir }
        if let dashboards { overrides["paths.dashboards"] = dashboards }
        if let publicDir { overrides["paths.public"] = publicDir }
        let configuration = try PulseboardConfiguration.loadForCommand(file: config, overrides: overrides)
        var logger = Logger(label: "pulseboard")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        let app = try buildApplication(configuration: configuration, options: ServeOptions(demo: demo), logger: logger)
        try await app.runService()
    }
}
