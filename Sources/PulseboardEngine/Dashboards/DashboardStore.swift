import Foundation
import Logging
import NIOConcurrencyHelpers
import PulseboardCore

/// The dashboard specs of the `--dashboards` directory: each file parsed and validated, the
/// valid ones served, the errors of the others kept for `GET /api/dashboards/:id/errors`.
public final class DashboardStore: Sendable {
    /// One spec file: its last good version (if any) and its current errors.
    public struct Entry: Sendable {
        public var id: String
        public var path: String
        public var spec: DashboardSpec?
        public var errors: [SpecError]
    }

    public let directory: String
    let parser: DashboardSpecParser
    let entries: NIOLockedValueBox<[String: Entry]>
    let logger: Logger

    public init(directory: String, dimensions: DimensionSet, logger: Logger) {
        self.directory = directory
        self.parser = DashboardSpecParser(dimensions: dimensions)
        self.entries = NIOLockedValueBox([:])
        self.logger = logger
    }

    /// The spec files of a directory (every `*.json` but `schema.json`), sorted.
    public static func specFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "schema.json" }.sorted().map { directory + "/" + $0 }
    }

    /// (Re)loads every spec file. A file whose new version is invalid keeps its last good spec.
    /// Returns the ids whose served spec changed (or disappeared).
    @discardableResult
    public func load() -> [String] {
        var fresh: [String: Entry] = [:]
        let previous = entries.withLockedValue { $0 }
        for path in DashboardStore.specFiles(in: directory) {
            let id = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let bytes = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
            switch parser.parse(bytes, fileId: id) {
            case .success(let spec):
                fresh[id] = Entry(id: id, path: path, spec: spec, errors: [])
            case .failure(let e):
                fresh[id] = Entry(id: id, path: path, spec: previous[id]?.spec, errors: e.errors)
                for error in e.errors {
                    logger.error("invalid dashboard spec", metadata: ["file": "\(path)", "error": "\(error)"])
                }
            }
        }
        let served = fresh.values.filter { $0.spec != nil }.count
        logger.info("dashboards loaded", metadata: ["directory": "\(directory)", "valid": "\(served)", "files": "\(fresh.count)"])
        entries.withLockedValue { $0 = fresh }
        var changed: [String] = []
        for id in Set(previous.keys).union(fresh.keys) {
            let before = previous[id]?.spec?.source
            let after = fresh[id]?.spec?.source
            if before != after { changed.append(id) }
        }
        return changed.sorted()
    }

    /// A fingerprint of the directory (names, sizes, modification times) to notice edits cheaply.
    public func fingerprint() -> [String: String] {
        var out: [String: String] = [:]
        for path in DashboardStore.specFiles(in: directory) {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            out[path] = "\(size)-\(modified)"
        }
        return out
    }

    /// Validates `bytes` as the spec of `id` and, if valid, writes it to `<directory>/<id>.json`
    /// (atomically) and reloads. Returns the errors otherwise.
    public func store(_ bytes: [UInt8], id: String) throws -> Result<[String], SpecErrors> {
        switch parser.parse(bytes, fileId: id) {
        case .failure(let e): return .failure(e)
        case .success:
            try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + id + ".json"), options: .atomic)
            return .success(load())
        }
    }

    /// Every entry, sorted by id.
    public func all() -> [Entry] {
        entries.withLockedValue { $0.values.sorted { $0.id < $1.id } }
    }

    /// The entry for `id`.
    public func entry(_ id: String) -> Entry? {
        entries.withLockedValue { $0[id] }
    }

    /// Validates a spec without storing it.
    public func validate(_ bytes: [UInt8], id: String? = nil) -> Result<DashboardSpec, SpecErrors> {
        parser.parse(bytes, fileId: id)
    }
}
