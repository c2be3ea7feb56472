import ArgumentParser
import Foundation
import PulseboardServer

extension PulseboardConfiguration {
    /// Loads the configuration for a subcommand: `file` (required unless it is the default
    /// path), the environment, then `overrides` from flags. A bad configuration prints the
    /// loader's message and exits 78 (EX_CONFIG).
    static func loadForCommand(file: String, overrides: [String: String] = [:]) throws -> PulseboardConfiguration {
        do {
            return try ConfigurationLoader().load(file: file, fileRequired: file != "config/pulseboard.json", overrides: overrides)
        } catch {
            FileHandle.standardError.write(Data("pulseboard: bad configuration: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
    }
}
