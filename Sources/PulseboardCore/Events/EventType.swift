/// The event types of the seed taxonomy, plus `custom` for anything else.
///
/// Raw values are stable: they index per-type counters and are never persisted by name.
public enum EventType: UInt8, Sendable, CaseIterable {
    case chatInteraction = 0
    case threadLifecycle = 1
    case featureUsage = 2
    case surveyResponse = 3
    case feedbackSubmission = 4
    case performanceMetric = 5
    case errorTracking = 6
    case custom = 7

    /// The seven typed event types (everything but `custom`).
    public static let seedTypes: [EventType] = [
        .chatInteraction, .threadLifecycle, .featureUsage, .surveyResponse,
        .feedbackSubmission, .performanceMetric, .errorTracking,
    ]

    /// The wire name (`chat_interaction`, …); `custom` for custom events.
    public var name: String {
        switch self {
        case .chatInteraction: "chat_interaction"
        case .threadLifecycle: "thread_lifecycle"
        case .featureUsage: "feature_usage"
        case .surveyResponse: "survey_response"
        case .feedbackSubmission: "feedback_submission"
        case .performanceMetric: "performance_metric"
        case .errorTracking: "error_tracking"
        case .custom: "custom"
        }
    }

    /// Looks up a seed type by its wire name.
    public init?(name: String) {
        guard let t = EventType.seedTypes.first(where: { $0.name == name }) else { return nil }
        self = t
    }
}
