import ArgumentParser

/// The `pulseboard` command: `serve` (default), `validate`, `replay`, `generate` and `bench`.
@main
struct Pulseboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pulseboard",
        abstract: "Real-time analytics push server for AI products.",
        subcommands: [ServeCommand.self, ValidateCommand.self, ReplayCommand.self, GenerateCommand.self, BenchCommand.self],
        defaultSubcommand: ServeCommand.self)
}
