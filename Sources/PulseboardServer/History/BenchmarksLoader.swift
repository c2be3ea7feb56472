import Foundation
import PulseboardCore

/// Industry benchmarks per KPI from `kpi.benchmarks_file`: `{"nps": 32, "csat": 78, …}`.
public enum BenchmarksLoader {
    public static func load(path: String) throws(ConfigurationError) -> [KPI: Double] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "kpi.benchmarks_file", "cannot read \(path)")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(Array(data)) } catch {
            throw ConfigurationError(key: "kpi.benchmarks_file", "\(path) is not valid JSON: \(error.description)")
        }
        guard case .object(let members) = root else {
            throw ConfigurationError(key: "kpi.benchmarks_file", "\(path) must hold an object of KPI name to value")
        }
        var out: [KPI: Double] = [:]
        for (name, value) in members where !name.hasPrefix("$") && name != "source" {
            guard let kpi = KPI(rawValue: name) else {
                throw ConfigurationError(key: "kpi.benchmarks_file", "\(path): unknown KPI '\(name)'; one of " + KPI.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard case .number(let v) = value else {
                throw ConfigurationError(key: "kpi.benchmarks_file", "\(path): \(name) must be a number")
            }
            out[kpi] = v
        }
        return out
    }
}
