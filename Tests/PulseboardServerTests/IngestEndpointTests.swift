import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite struct IngestEndpointTests {
    @Test func acceptsTheProtocolExampleAndCountsIt() async throws {
        try await withApp(testConfiguration()) { client in
            let (status, _, body) = try await client.ingest(#"{"events":[\#(chat)],"context":{"user_id":"u-123","session_id":"s-9","page_path":"/chat","org_id":"acme"}}"#)
            #expect(status == .ok)
            #expect(body?["accepted"]?.number == 1)
            #expect(body?["duplicates"]?.number == 0)
            #expect(body?["rejected"]?.array?.isEmpty == true)
            let (_, users) = try await client.getJSON("/api/metrics/query?metric=active_users&window=5m")
            #expect(users?["value"]?.number == 1)
            let (_, p95) = try await client.getJSON("/api/metrics/query?metric=response_time_ms&agg=p95&window=5m&group_by=model_used&filter=event_type:chat_interaction")
            let v = try #require(p95?["groups"]?["gpt-x"]?.number)
            #expect(abs(v - 812.5) / 812.5 <= 0.01)
            let (_, byOrg) = try await client.getJSON("/api/metrics/query?metric=events&window=1h&filter=org_id:acme")
            #expect(byOrg?["value"]?.number == 1)
        }
    }

    /// Each invalid event is rejected with its index, field and reason; valid ones are kept.
    @Test(arguments: [
        (#"{"properties":{}}"#, "event_type", "required"),
        (#"{"event_type":7}"#, "event_type", "must be a string"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"user_prompt","is_follow_up":false}}"#, "properties.prompt_length", "required"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"user_prompt","prompt_length":"42","is_follow_up":false}}"#, "properties.prompt_length", "must be an integer"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"user_prompt","prompt_length":4.5,"is_follow_up":false}}"#, "properties.prompt_length", "must be an integer"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"shout","prompt_length":4,"is_follow_up":false}}"#, "properties.message_type", "must be one of user_prompt, ai_response, system_message"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"user_prompt","prompt_length":4,"is_follow_up":"no"}}"#, "properties.is_follow_up", "must be a boolean"),
        (#"{"event_type":"chat_interaction","properties":{"thread_id":"t","message_id":"m","message_type":"user_prompt","prompt_length":4,"is_follow_up":true,"response_time_ms":-3}}"#, "properties.response_time_ms", "must be ≥ 0"),
        (#"{"event_type":"thread_lifecycle","properties":{"thread_id":"t","action":"paused"}}"#, "properties.action", "must be one of created, continued, completed, abandoned"),
        (#"{"event_type":"feature_usage","properties":{"feature_name":"x","action":"y"}}"#, "properties.success", "required"),
        (#"{"event_type":"survey_response","properties":{"survey_id":"s","question_id":"q","question_type":"vibes"}}"#, "properties.question_type", "must be one of pain_perception, magic_wand, spending, planning"),
        (#"{"event_type":"feedback_submission","properties":{"feedback_type":"nps","score":11}}"#, "properties.score", "an nps score must be 0 to 10"),
        (#"{"event_type":"feedback_submission","properties":{"feedback_type":"csat","score":0}}"#, "properties.score", "a csat score must be 1 to 5"),
        (#"{"event_type":"performance_metric","properties":{"metric_type":"page_load","success":true}}"#, "properties.duration_ms", "required"),
        (#"{"event_type":"error_tracking","properties":{"error_type":"x","error_message":"y","user_impact":"huge"}}"#, "properties.user_impact", "must be one of critical, high, medium, low"),
        (#"{"event_type":"x","timestamp":"yesterday"}"#, "timestamp", "must be an RFC 3339 date-time such as 2026-11-21T10:00:00.123Z"),
        (#"{"event_type":"x","timestamp":"2999-01-01T00:00:00Z"}"#, "timestamp", "more than 300 s in the future (ingest.max_future_seconds)"),
        (#"{"event_type":"x","properties":[1]}"#, "properties", "must be an object"),
        (#"{"event_type":"x","event_id":""}"#, "event_id", "must be 1 to 256 bytes"),
        (#"{"event_type":"x","user_id":""}"#, "user_id", "required (in the event or the batch context)"),
        (#"17"#, "", "an event must be a JSON object"),
    ])
    func rejectsInvalidEventsAndKeepsTheRest(event: String, field: String, reason: String) async throws {
        try await withApp(testConfiguration()) { client in
            let userless = event.contains(#""user_id":"""#)
            let context = userless ? "{}" : #"{"user_id":"u1"}"#
            let (status, _, body) = try await client.ingest(#"{"events":[\#(chat),\#(event)],"context":\#(context)}"#)
            #expect(status == .ok)
            #expect(body?["accepted"]?.number == (userless ? 0 : 1))
            let rejected = try #require(body?["rejected"]?.array)
            let mine = try #require(rejected.first { $0["index"]?.number == 1 })
            #expect(mine["field"]?.string == field)
            #expect(mine["reason"]?.string == reason)
        }
    }

    @Test func propertyCountAndSizeLimits() async throws {
        try await withApp(testConfiguration()) { client in
            let many = (0..<65).map { #""p\#($0)":\#($0)"# }.joined(separator: ",")
            let big = #""blob":"\#(String(repeating: "x", count: 9000))""#
            let (_, _, body) = try await client.ingest(#"{"events":[{"event_type":"x","properties":{\#(many)}},{"event_type":"x","properties":{\#(big)}}],"context":{"user_id":"u"}}"#)
            let rejected = try #require(body?["rejected"]?.array)
            #expect(rejected.count == 2)
            #expect(rejected[0]["reason"]?.string == "65 properties; at most 64 (ingest.max_properties)")
            #expect(rejected[1]["field"]?.string == "properties")
            #expect(rejected[1]["reason"]?.string?.hasSuffix("at most 8192 (ingest.max_properties_bytes)") == true)
        }
    }

    @Test(arguments: [
        ("{", HTTPResponse.Status.badRequest, "invalid_batch"),
        ("[]", .badRequest, "invalid_batch"),
        (#"{"events":{}}"#, .badRequest, "invalid_batch"),
        (#"{"context":{}}"#, .badRequest, "invalid_batch"),
        (#"{"events":[]} trailing"#, .badRequest, "invalid_batch"),
        (#"{"events":[{"event_type":"x",}]}"#, .badRequest, "invalid_batch"),
    ])
    func malformedBodiesAre400WithNothingKept(body: String, status: HTTPResponse.Status, code: String) async throws {
        try await withApp(testConfiguration()) { client in
            let (s, _, json) = try await client.ingest(body)
            #expect(s == status)
            #expect(json?.errorCode == code)
            #expect(json?["error"]?["message"]?.string?.isEmpty == false)
            let (_, events) = try await client.getJSON("/api/metrics/query?metric=events&window=1h")
            #expect(events?["value"]?.number == 0)
        }
    }

    @Test func sizeLimitsAre413() async throws {
        let config = testConfiguration {
            $0.ingest.limits.maxBodyBytes = 2048
            $0.ingest.limits.maxEventsPerBatch = 3
        }
        try await withApp(config) { client in
            let (s1, _, j1) = try await client.ingest(#"{"events":[{"event_type":"x","properties":{"blob":"\#(String(repeating: "y", count: 4000))"}}],"context":{"user_id":"u"}}"#)
            #expect(s1 == .contentTooLarge)
            #expect(j1?.errorCode == "body_too_large")
            let four = Array(repeating: #"{"event_type":"x"}"#, count: 4).joined(separator: ",")
            let (s2, _, j2) = try await client.ingest(#"{"events":[\#(four)],"context":{"user_id":"u"}}"#)
            #expect(s2 == .contentTooLarge)
            #expect(j2?.errorCode == "too_many_events")
        }
    }

    @Test func unsupportedContentTypeIs415() async throws {
        try await withApp(testConfiguration()) { client in
            let (s, _, j) = try await client.ingest(#"{"events":[]}"#, contentType: "application/xml")
            #expect(s == .unsupportedMediaType)
            #expect(j?.errorCode == "unsupported_media_type")
        }
    }

    @Test func ndjsonLinesCarryTheirOwnUsers() async throws {
        try await withApp(testConfiguration()) { client in
            let lines = [
                #"{"event_type":"page_view","user_id":"a","session_id":"s1"}"#,
                "",
                #"{"event_type":"page_view","user_id":"b","context":{"org_id":"o1"}}"#,
                "not json",
                #"{"event_type":"page_view"}"#,
            ].joined(separator: "\n")
            let (s, _, j) = try await client.ingest(lines, contentType: "application/x-ndjson")
            #expect(s == .ok)
            #expect(j?["accepted"]?.number == 2)
            let rejected = try #require(j?["rejected"]?.array)
            #expect(rejected.count == 2)
            #expect(rejected[0]["index"]?.number == 2)
            #expect(rejected[1]["field"]?.string == "user_id")
            let (_, users) = try await client.getJSON("/api/metrics/query?metric=active_users&window=1m")
            #expect(users?["value"]?.number == 2)
        }
    }

    @Test func duplicatesByEventIdAreCountedOnce() async throws {
        try await withApp(testConfiguration()) { client in
            let batch = #"{"events":[{"event_type":"x","event_id":"e1"},{"event_type":"x","event_id":"e2"},{"event_type":"x","event_id":"e1"}],"context":{"user_id":"u"}}"#
            let (_, _, first) = try await client.ingest(batch)
            #expect(first?["accepted"]?.number == 2)
            #expect(first?["duplicates"]?.number == 1)
            let (_, _, retry) = try await client.ingest(batch)
            #expect(retry?["accepted"]?.number == 0)
            #expect(retry?["duplicates"]?.number == 3)
            let (_, events) = try await client.getJSON("/api/metrics/query?metric=events&window=5m")
            #expect(events?["value"]?.number == 2)
        }
    }

    @Test func perUserRateLimitRejectsExcessAnd429sWhenNothingFits() async throws {
        let config = testConfiguration { $0.ingest.maxEventsPerUserPerMinute = 3 }
        try await withApp(config) { client in
            let five = Array(repeating: #"{"event_type":"x"}"#, count: 5).joined(separator: ",")
            let (s1, _, j1) = try await client.ingest(#"{"events":[\#(five)],"context":{"user_id":"busy"}}"#)
            #expect(s1 == .ok)
            #expect(j1?["accepted"]?.number == 3)
            #expect(j1?["rejected"]?.array?.count == 2)
            #expect(j1?["rejected"]?.array?.first?["field"]?.string == "user_id")
            let (s2, headers, j2) = try await client.ingest(#"{"events":[{"event_type":"x"}],"context":{"user_id":"busy"}}"#)
            #expect(s2 == .tooManyRequests)
            #expect(j2?.errorCode == "rate_limited")
            let retry = try #require(headers[.retryAfter].flatMap(Int.init))
            #expect(retry >= 1 && retry <= 60)
            let (s3, _, _) = try await client.ingest(#"{"events":[{"event_type":"x"}],"context":{"user_id":"calm"}}"#)
            #expect(s3 == .ok)
        }
    }

    @Test func strictModeRejectsCustomTypes() async throws {
        try await withApp(testConfiguration { $0.ingest.limits.strict = true }) { client in
            let (_, _, j) = try await client.ingest(#"{"events":[{"event_type":"page_view"}],"context":{"user_id":"u"}}"#)
            #expect(j?["accepted"]?.number == 0)
            #expect(j?["rejected"]?.array?.first?["field"]?.string == "event_type")
        }
    }
}
