/// The typed property schema of the seed event types (seed 004's taxonomy).
///
/// The decoder checks required fields, JSON types and enum values against this table; properties
/// not listed are kept as free-form properties (subject to the count and size limits).
public struct EventSchema: Sendable {
    /// The JSON type a property must have.
    public enum FieldType: Sendable, Equatable {
        case string, integer, number, boolean
        case enumeration([String])

        var description: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .number: "a number"
            case .boolean: "a boolean"
            case .enumeration(let values): "one of " + values.joined(separator: ", ")
            }
        }
    }

    /// One typed property.
    public struct Field: Sendable {
        public var name: String
        public var type: FieldType
        public var required: Bool
        /// The role the value plays in the aggregates, if any.
        public var role: Role
        let nameHash: UInt64
        let enumHashes: [UInt64]

        init(_ name: String, _ type: FieldType, required: Bool = false, role: Role = .none) {
            self.name = name
            self.type = type
            self.required = required
            self.role = role
            self.nameHash = StableHash.hash(name)
            if case .enumeration(let values) = type {
                self.enumHashes = values.map { StableHash.hash($0) }
            } else {
                self.enumHashes = []
            }
        }
    }

    /// What a typed field feeds in the aggregates.
    public enum Role: Sendable, Equatable {
        case none, threadId, model, responseTime, tokens, success, duration, threadAction, score, feedbackType
    }

    /// Fields of each seed type, indexed by `EventType.rawValue`.
    public let fields: [[Field]]

    /// The schema of seed 004.
    public static let seed = EventSchema(fields: [
        // chat_interaction
        [
            Field("thread_id", .string, required: true, role: .threadId),
            Field("message_id", .string, required: true),
            Field("message_type", .enumeration(["user_prompt", "ai_response", "system_message"]), required: true),
            Field("prompt_text", .string),
            Field("prompt_length", .integer, required: true),
            Field("response_length", .integer),
            Field("response_time_ms", .number, role: .responseTime),
            Field("model_used", .string, role: .model),
            Field("tokens_consumed", .integer, role: .tokens),
            Field("is_follow_up", .boolean, required: true),
        ],
        // thread_lifecycle
        [
            Field("thread_id", .string, required: true, role: .threadId),
            Field("action", .enumeration(["created", "continued", "completed", "abandoned"]), required: true, role: .threadAction),
            Field("message_count", .integer),
            Field("duration_seconds", .number),
        ],
        // feature_usage
        [
            Field("feature_name", .string, required: true),
            Field("action", .string, required: true),
            Field("success", .boolean, required: true, role: .success),
            Field("error_code", .string),
            Field("duration_ms", .number, role: .duration),
        ],
        // survey_response
        [
            Field("survey_id", .string, required: true),
            Field("question_id", .string, required: true),
            Field("question_type", .enumeration(["pain_perception", "magic_wand", "spending", "planning"]), required: true),
            Field("response_value", .string),
            Field("response_scale", .integer),
            Field("ai_spend_last_month", .number),
            Field("ai_spend_next_quarter", .number),
        ],
        // feedback_submission
        [
            Field("feedback_type", .enumeration(["nps", "csat", "feature_request", "bug_report"]), required: true, role: .feedbackType),
            Field("score", .integer, role: .score),
            Field("comment", .string),
            Field("context_thread_id", .string),
        ],
        // performance_metric
        [
            Field("metric_type", .enumeration(["page_load", "api_call", "websocket", "render"]), required: true),
            Field("duration_ms", .number, required: true, role: .duration),
            Field("success", .boolean, required: true, role: .success),
            Field("error_details", .string),
        ],
        // error_tracking
        [
            Field("error_type", .string, required: true),
            Field("error_message", .string, required: true),
            Field("stack_trace", .string),
            Field("user_impact", .enumeration(["critical", "high", "medium", "low"]), required: true),
        ],
        [],
    ])

    /// Index of the field named by `hash` for `type`, if typed.
    @inline(__always)
    func fieldIndex(type: EventType, nameHash: UInt64) -> Int? {
        let list = fields[Int(type.rawValue)]
        for i in list.indices where list[i].nameHash == nameHash { return i }
        return nil
    }

    /// Bit mask of required fields for `type`.
    func requiredMask(_ type: EventType) -> UInt64 {
        var m: UInt64 = 0
        for (i, f) in fields[Int(type.rawValue)].enumerated() where f.required { m |= 1 << UInt64(i) }
        return m
    }
}
