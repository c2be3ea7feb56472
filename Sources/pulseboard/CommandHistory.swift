import ArgumentParser
import Foundation
import Logging
import PulseboardEngine
import PulseboardServer

/// What a subcommand that works on a data directory's history opens: the configuration (file,
/// environment, `--data-dir`), the directory's lock, held while this value lives, and the history.
struct CommandHistory {
    let configuration: PulseboardConfiguration
    let lock: DataDirectoryLock
    let history: History
    /// Warnings and errors only: a command prints its own progress.
    let logger: Logger

    /// Opens the history of `dataDir` (config `paths.data_dir` without it); a lock or store
    /// failure prints its message and exits 1.
    init(config file: String, dataDir: String?) throws {
        var overrides: [String: String] = [:]
        if let dataDir { overrides["paths.data_dir"] = dataDir }
        configuration = try PulseboardConfiguration.loadForCommand(file: file, overrides: overrides)
        var logger = Logger(label: "pulseboard")
        logger.logLevel = .warning
        self.logger = logger
        do {
            lock = try DataDirectoryLock(directory: configuration.paths.dataDir)
            history = try HistoryOpener.open(configuration, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("pulseboard: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
