import PulseboardCore
import Testing

@Suite struct EventDecoderTests {
    func decode(_ text: String, format: EventDecoder.Format = .json, now: Int64 = 1_790_000_000_000, limits: IngestLimits = IngestLimits()) throws -> DecodedBatch {
        let decoder = EventDecoder(limits: limits)
        var batch = DecodedBatch()
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBytes { try decoder.decode($0, format: format, nowMs: now, into: &batch) }
        return batch
    }

    @Test(arguments: [
        ("2026-11-21T10:00:00.123Z", 1_795_255_200_123 as Int64),
        ("2026-11-21T10:00:00Z", 1_795_255_200_000),
        ("2026-11-21T12:30:00+02:30", 1_795_255_200_000),
        ("1970-01-01T00:00:00.5Z", 500),
        ("2024-02-29T23:59:59.999Z", 1_709_251_199_999),
    ])
    func parsesRFC3339(text: String, millis: Int64) {
        #expect(Timestamp.parseMillis(text) == millis)
        if text.hasSuffix("Z"), text.count == 24 { #expect(Timestamp.format(millis: millis) == text) }
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-21 10:00", "2026-11-21T10:00:00", "2026-11-21T25:00:00Z", "x"])
    func rejectsBadTimestamps(text: String) {
        #expect(Timestamp.parseMillis(text) == nil)
    }

    @Test func propertiesBeforeTypeAndContextAfterEvents() throws {
        let b = try decode(#"{"events":[{"properties":{"thread_id":"t\u0031","message_id":"m","message_type":"ai_response","prompt_length":1,"is_follow_up":true,"response_time_ms":1.5e3,"model_used":"gpt"},"event_type":"chat_interaction"}],"context":{"user_id":"u\"q","org_id":"acme"}}"#)
        #expect(b.rejections.isEmpty)
        let e = try #require(b.events.first)
        #expect(e.type == .chatInteraction)
        #expect(e.responseTimeMs == 1500)
        #expect(e.thread.hash == StableHash.hash("t1"))
        #expect(e.user.hash == StableHash.hash("u\"q"))
        #expect(b.contextDims.count == 1)
    }

    @Test func numbersAreExactForIntegersAndShortDecimals() throws {
        let b = try decode(#"{"events":[{"event_type":"chat_interaction","user_id":"u","properties":{"thread_id":"t","message_id":"m","message_type":"ai_response","prompt_length":0,"is_follow_up":false,"response_time_ms":812.5,"tokens_consumed":9007199254740992}}]}"#)
        #expect(b.events.first?.responseTimeMs == 812.5)
        #expect(b.events.first?.tokens == 9_007_199_254_740_992)
    }

    @Test(arguments: [#"{"events":[01]}"#, #"{"events":["\x"]}"#, #"{"events":[tru]}"#, #"{"events":[1.]}"#, "{\"events\":[\"a\u{1}\"]}", #"{"events":[nul]}"#])
    func syntaxErrorsRejectTheWholeBody(text: String) {
        #expect(throws: BatchError.self) { try decode(text) }
    }

    @Test func unknownFieldsAndNestedValuesAreSkipped() throws {
        let b = try decode(#"{"version":2,"events":[{"event_type":"x","extra":{"a":[1,{"b":null}]},"properties":{"nested":{"deep":[true,false]}}}],"context":{"user_id":"u","ua":{"x":1}}}"#)
        #expect(b.events.count == 1)
        #expect(b.rejections.isEmpty)
    }

    @Test func windowsParse() throws {
        #expect(try WindowSpec.parseSeconds("30s") == 30)
        #expect(try WindowSpec.parseSeconds("5m") == 300)
        #expect(try WindowSpec.parseSeconds("24h") == 86_400)
        #expect(throws: QueryError.self) { try WindowSpec.parseSeconds("25h") }
        #expect(throws: QueryError.self) { try WindowSpec.parseSeconds("0m") }
        #expect(WindowSpec.format(300) == "5m")
    }

    @Test func stableHashIsStable() {
        // Fixed values: persisted sketches and journals depend on these never changing.
        #expect(StableHash.hash("") == StableHash.hash([UInt8]()))
        #expect(StableHash.hash("user-123") == StableHash.hash(Array("user-123".utf8)))
        #expect(StableHash.hash("a") != StableHash.hash("b"))
    }
}
