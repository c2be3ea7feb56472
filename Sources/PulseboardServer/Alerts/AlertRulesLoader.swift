import Foundation
import PulseboardCore

/// Reads `alerts.rules_file`. A missing file means no threshold rules and default anomaly
/// detection; a bad one fails start-up with every problem's JSON path.
public enum AlertRulesLoader {
    public static func load(path: String, dimensions: DimensionSet, maxKPIDays: Int) throws(ConfigurationError) -> AlertConfiguration {
        guard FileManager.default.fileExists(atPath: path) else { return AlertConfiguration() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "alerts.rules_file", "cannot read \(path)")
        }
        switch AlertRulesParser(dimensions: dimensions, maxKPIDays: maxKPIDays).parse(Array(data)) {
        case .success(let c): return c
        case .failure(let e):
            throw ConfigurationError(key: "alerts.rules_file", "\(path): " + e.errors.map(\.description).joined(separator: "; "))
        }
    }
}
