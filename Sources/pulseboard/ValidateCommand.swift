import ArgumentParser
import Foundation
import PulseboardCore
import PulseboardEngine
import PulseboardServer

/// `pulseboard validate [PATH…]`: checks dashboard specs and exits non-zero on any error.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate dashboard specs (files or directories; default: dashboards).")

    @Argument(help: "Spec files or directories of specs.")
    var paths: [String] = []

    @Option(help: "Configuration file (for the tracked dimensions).")
    var config: String = "config/pulseboard.json"

    func run() throws {
        let configuration = try PulseboardConfiguration.loadForCommand(file: config)
        let parser = DashboardSpecParser(dimensions: configuration.aggregation.dimensions)
        var files: [String] = []
        for p in paths.isEmpty ? [configuration.paths.dashboards] : paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDirectory) else {
                print("\(p): no such file or directory")
                throw ExitCode.failure
            }
            files += isDirectory.boolValue ? DashboardStore.specFiles(in: p) : [p]
        }
        var failed = 0
        for file in files {
            let id = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
            let bytes = FileManager.default.contents(atPath: file).map { Array($0) } ?? []
            switch parser.parse(bytes, fileId: id) {
            case .success(let spec):
                print("\(file): ok (\(spec.widgets.count) widgets)")
            case .failure(let e):
                failed += 1
                for error in e.errors {
                    print("\(file):\(error.line):\(error.column): \(error.path): \(error.message)")
                }
            }
        }
        if failed > 0 {
            print("\(failed) of \(files.count) specs have errors")
            throw ExitCode.failure
        }
    }
}
