import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PulseboardCore
import PulseboardEngine
import Testing
@testable import PulseboardServer

@Suite struct ReportEndpointTests {
    /// Five events on known days (2026-11-09 and 11-16 are Mondays), imported into history.
    static let ndjson = [
        #"{"event_type":"thread_lifecycle","timestamp":"2026-11-10T09:00:00Z","user_id":"u3","properties":{"thread_id":"t3","action":"completed"}}"#,
        #"{"event_type":"chat_interaction","timestamp":"2026-11-16T10:15:00Z","user_id":"u1","properties":{"thread_id":"t1","message_id":"m1","message_type":"ai_response","prompt_length":5,"is_follow_up":false,"model_used":"gpt-4o","response_time_ms":800,"tokens_consumed":1000}}"#,
        #"{"event_type":"chat_interaction","timestamp":"2026-11-16T10:45:00Z","user_id":"u2","properties":{"thread_id":"t2","message_id":"m2","message_type":"ai_response","prompt_length":5,"is_follow_up":false,"model_used":"gpt-4o","response_time_ms":1200,"tokens_consumed":1000}}"#,
        #"{"event_type":"error_tracking","timestamp":"2026-11-17T08:00:00Z","user_id":"u1","properties":{"error_type":"Timeout","error_message":"x","user_impact":"low"}}"#,
        #"{"event_type":"feature_usage","timestamp":"2026-11-18T08:00:00Z","user_id":"u1","properties":{"feature_name":"search","action":"click","success":true}}"#,
    ].joined(separator: "\n") + "\n"

    @Test func userActivityAndSpendReportsAddUpTheHistory() async throws {
        let clock = ManualClock(millis: Timestamp.parseMillis("2026-11-20T12:00:00Z")!)
        try await withApp(testConfiguration(), clock: clock) { client in
            let imported = try await client.execute(
                uri: "/api/history/import", method: .post, headers: [HTTPField.Name("X-Import-Id")!: "fixture"],
                body: ByteBuffer(string: ReportEndpointTests.ndjson)) { $0.status }
            #expect(imported == .ok)

            let (status, week) = try await client.getJSON("/api/analytics/reports/user-activity?start_date=2026-11-09&end_date=2026-11-19&granularity=week")
            #expect(status == .ok)
            let buckets = try #require(week?["buckets"]?.array)
            #expect(buckets.map { $0["start"]?.string } == ["2026-11-09", "2026-11-16"])
            #expect(buckets.map { $0["days"]?.number } == [7, 4])
            #expect(buckets.map { $0["active_users"]?.number } == [1, 2])
            #expect(buckets[1]["events"]?.number == 4 && buckets[1]["interactions"]?.number == 2 && buckets[1]["errors"]?.number == 1)
            #expect(buckets[1]["ai_spend_usd"]?.number == 0.01, "2 × 1,000 tokens at gpt-4o's $0.005 per 1k")
            #expect(buckets[1]["avg_response_time_ms"]?.number == 1000)
            #expect(buckets[0]["threads_completed"]?.number == 1)
            #expect(week?["totals"]?["active_users"]?.number == 3 && week?["totals"]?["events"]?.number == 5)

            let (_, hours) = try await client.getJSON("/api/analytics/reports/user-activity?start_date=2026-11-16&end_date=2026-11-16&granularity=hour")
            let hourBuckets = try #require(hours?["buckets"]?.array)
            #expect(hourBuckets.map { $0["start"]?.string } == ["2026-11-16T10:00:00.000Z"])
            #expect(hourBuckets.first?["interactions"]?.number == 2)

            let (_, user) = try await client.getJSON("/api/analytics/reports/user-activity?user_id=u1&start_date=2026-11-01&end_date=2026-11-20&granularity=day")
            // The error on 11-17 is a technical event: it does not make u1 active that day.
            #expect(user?["active_days"]?.number == 2)
            #expect(user?["first_active"]?.string == "2026-11-16" && user?["last_active"]?.string == "2026-11-18")
            #expect(user?["buckets"]?.array?.count == 20)

            let (_, spend) = try await client.getJSON("/api/analytics/reports/ai-spend")
            #expect(spend?["start_date"]?.string == "2026-11-01" && spend?["end_date"]?.string == "2026-11-20")
            #expect(spend?["total_usd"]?.number == 0.01)
            #expect(spend?["active_users"]?.number == 3)
            #expect(spend?["per_active_user_usd"]?.number == 0.003333)
            #expect(spend?["per_successful_outcome_usd"]?.number == 0.01, "one completed thread")
            #expect(spend?["by_model"]?["gpt-4o"]?.number == 0.01)
            // 0.01 so far + (0.01 over the last 7 whole days) / 7 × 10.5 days left in November.
            #expect(spend?["projected_month_usd"]?.number == 0.025)

            let (bad, error) = try await client.getJSON("/api/analytics/reports/user-activity?start_date=2026-11-19&end_date=2026-11-09")
            #expect(bad == .badRequest && error?.errorCode == "bad_range")
            let (missing, e2) = try await client.getJSON("/api/analytics/reports/user-activity?end_date=2026-11-09")
            #expect(missing == .badRequest && e2?.errorCode == "missing_parameter")
            let (unknown, e3) = try await client.getJSON("/api/analytics/reports/user-activity?user_id=nobody&start_date=2026-11-01&end_date=2026-11-02")
            #expect(unknown == .notFound && e3?.errorCode == "unknown_user")
        }
    }
}
