/// How urgent an alert is; frames and the alert list sort by it.
public enum AlertSeverity: String, Sendable, CaseIterable, Comparable, Codable {
    case info, warning, critical

    var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }

    public static func < (a: AlertSeverity, b: AlertSeverity) -> Bool { a.rank < b.rank }
}
