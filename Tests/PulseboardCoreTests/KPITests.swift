import Foundation
import Testing
@testable import PulseboardCore

@Suite struct KPITests {
    /// A rollup whose every KPI is computed by hand below.
    static var fixture: Rollup {
        var r = Rollup()
        r.byType[Int(EventType.chatInteraction.rawValue)] = 100
        r.byType[Int(EventType.errorTracking.rawValue)] = 3
        r.byType[Int(EventType.featureUsage.rawValue)] = 20
        r.failedFeatures = 2
        r.threadsCompleted = 6
        r.threadsAbandoned = 2
        r.npsPromoters = 5
        r.npsPassives = 3
        r.npsDetractors = 2
        r.csatResponses = 10
        r.csatSatisfied = 8
        r.responseCount = 3
        r.responseSumMicros = 3_000_000
        r.spendNanoUSD = 500_000_000
        for v in [500.0, 1000, 1500] { r.responseTimes.add(v) }
        return r
    }

    @Test func everyKPIMatchesItsHandComputedValue() {
        let input = KPIInput(rollup: KPITests.fixture, activeUsers: 3, previousActiveUsers: 4, churnedUsers: 2, knownUsers: 10)
        func v(_ k: KPI) -> Double? { k.evaluate(input).value }
        #expect(v(.nps) == 30)                        // (5 − 2) / 10 × 100
        #expect(v(.csat) == 80)                       // 8 / 10 × 100
        #expect(v(.taskCompletionRate) == 0.75)       // 6 / (6 + 2)
        #expect(v(.avgResponseTime) == 1000)          // 3,000 ms / 3
        #expect(v(.costPerInteraction) == 0.005)      // 0.5 USD / 100
        #expect(v(.aiSpend) == 0.5)
        #expect(v(.successRate) == 0.9)               // (20 − 2) / 20
        #expect(v(.errorRate) == 0.03)                // 3 / 100
        #expect(v(.churnRate) == 0.5)                 // 2 / 4
        #expect(v(.userGrowth) == -25)                // (3 − 4) / 4 × 100
        #expect(v(.adoptionRate) == 0.3)              // 3 / 10
        #expect(v(.interactions) == 100)
        let p95 = KPI.p95ResponseTime.evaluate(input)
        #expect(abs(p95.value! - 1000) <= 10)         // rank floor(0.95 × (3 − 1)) = 1 → 1,000 ms, ±1 %
        #expect(p95.errorBound != nil)
        #expect(KPI.nps.evaluate(input).n == 10)
        #expect(KPI.nps.evaluate(input).lowSample)    // 10 < 30
        #expect(!KPI.interactions.evaluate(input).lowSample)
        #expect(KPI.nps.evaluate(KPIInput()).value == nil)
    }

    @Test func eventsBecomeTheRightOutcomes() {
        var e = DecodedEvent()
        e.type = .feedbackSubmission
        e.feedbackType = 0
        for (score, outcome) in [(10, RollupDelta.Outcome.npsPromoter), (9, .npsPromoter), (8, .npsPassive), (7, .npsPassive), (6, .npsDetractor), (0, .npsDetractor)] {
            e.score = Int32(score)
            #expect(RollupDelta(e, pricePerThousand: 0).outcome == outcome)
        }
        e.feedbackType = 1
        for (score, outcome) in [(5, RollupDelta.Outcome.csatSatisfied), (4, .csatSatisfied), (3, .csatUnsatisfied), (1, .csatUnsatisfied)] {
            e.score = Int32(score)
            #expect(RollupDelta(e, pricePerThousand: 0).outcome == outcome)
        }
        e.score = 11
        e.feedbackType = 0
        #expect(RollupDelta(e, pricePerThousand: 0).outcome == .none)
        var t = DecodedEvent()
        t.type = .threadLifecycle
        t.threadAction = 2
        #expect(RollupDelta(t, pricePerThousand: 0).outcome == .threadCompleted)
        t.threadAction = 3
        #expect(RollupDelta(t, pricePerThousand: 0).outcome == .threadAbandoned)
        var c = DecodedEvent()
        c.type = .chatInteraction
        c.tokens = 2000
        c.responseTimeMs = 800
        let d = RollupDelta(c, pricePerThousand: 0.005)
        #expect(d.spendNanoUSD == 10_000_000)   // 2 × 0.005 USD
        #expect(d.responseMicros == 800_000)
    }

    @Test func rollupsSurviveTheirByteForm() {
        let r = KPITests.fixture
        #expect(RollupCodec.decode(RollupCodec.encode(r)) == r)
        #expect(RollupCodec.decode([9, 1, 2]) == nil)
    }

    @Test func calendarShiftsClampTheDayOfMonth() {
        let mar31 = LocalCalendar.day(of: .init(year: 2028, month: 3, day: 31))
        #expect(LocalCalendar.date(ofDay: LocalCalendar.adding(months: -1, to: mar31)).description == "2028-02-29")
        let mar31b = LocalCalendar.day(of: .init(year: 2027, month: 3, day: 31))
        #expect(LocalCalendar.date(ofDay: LocalCalendar.adding(months: -1, to: mar31b)).description == "2027-02-28")
        let jan15 = LocalCalendar.day(of: .init(year: 2027, month: 1, day: 15))
        #expect(LocalCalendar.date(ofDay: LocalCalendar.adding(months: -3, to: jan15)).description == "2026-10-15")
        #expect(LocalCalendar.date(ofDay: LocalCalendar.adding(months: -12, to: mar31)).description == "2027-03-31")
        let shifted = ComparisonPeriod.previousPeriod.shift(first: 100, last: 129)!
        #expect(shifted.first == 70 && shifted.last == 99)
        #expect(LocalCalendar.date(ofDay: 0).description == "1970-01-01")
        #expect(LocalCalendar.weekday(ofDay: 0) == 3)  // a Thursday
        #expect(LocalCalendar.date(ofDay: LocalCalendar.startOfQuarter(mar31)).description == "2028-01-01")
        #expect(LocalCalendar.parseDate("2026-02-30") == nil)
    }

    @Test func dayBoundariesFollowTheZoneAcrossDST() {
        let ny = LocalCalendar(identifier: "America/New_York")!
        let mar8 = LocalCalendar.day(of: .init(year: 2026, month: 3, day: 8))
        let nov1 = LocalCalendar.day(of: .init(year: 2026, month: 11, day: 1))
        #expect(ny.length(ofDay: mar8) == 23 * 3600)
        #expect(ny.length(ofDay: nov1) == 25 * 3600)
        #expect(ny.length(ofDay: mar8 + 1) == 24 * 3600)
        // 2026-03-08 00:00 EST = 05:00Z; 23:59 EDT = 03:59Z on the 9th.
        let start = ny.start(ofDay: mar8)
        #expect(start == 1_772_946_000)
        var cached = ny
        #expect(cached.day(ofSecond: start) == mar8)
        #expect(cached.day(ofSecond: start - 1) == mar8 - 1)
        #expect(cached.day(ofSecond: start + 23 * 3600 - 1) == mar8)
        #expect(cached.day(ofSecond: start + 23 * 3600) == mar8 + 1)
        let utc = LocalCalendar()
        #expect(utc.start(ofDay: mar8) == mar8 * 86_400)
    }

    @Test func trendsSeeSlopesAndIgnoreNoise() {
        let rising = Trend.fit((0..<30).map { Double(100 + 2 * $0) })
        #expect(rising.direction == .up)
        #expect(abs(rising.slopePerDay - 2) < 1e-9)
        #expect(abs(rising.changePercent! - 58) < 1e-9)   // 100 → 158
        var rng = SplitMix64(seed: 3)
        let noisy = Trend.fit((0..<30).map { _ in 100 + rng.normal() * 5 })
        #expect(noisy.direction == .flat)
        let falling = Trend.fit((0..<30).map { Double(300 - 3 * $0) as Double? })
        #expect(falling.direction == .down)
        #expect(Trend.fit([1, nil, 2]).direction == .flat)   // too few days
    }

    @Test func comparisonsKnowWhichWayIsGood() {
        #expect(Comparison(value: 110, other: 100, higherIsBetter: true).verdict == .better)
        #expect(Comparison(value: 110, other: 100, higherIsBetter: false).verdict == .worse)
        #expect(Comparison(value: 100.1, other: 100, higherIsBetter: true).verdict == .same)
        let c = Comparison(value: 90, other: 120, higherIsBetter: true)
        #expect(c.change == -30 && c.changePercent == -25)
    }

    @Test func exactActiveUsersMatchABruteForceCount() {
        var rng = SplitMix64(seed: 11)
        var days: [UserBitset] = []
        var sets: [Set<UInt32>] = []
        for _ in 0..<60 {
            var b = UserBitset()
            var s = Set<UInt32>()
            for _ in 0..<Int(rng.next() % 400) {
                let u = UInt32(rng.next() % 5000)
                b.insert(u)
                s.insert(u)
            }
            days.append(b)
            sets.append(s)
        }
        let history = DailyHistory(firstDay: 1000, rollups: Array(repeating: Rollup(), count: 60), users: days, knownUsers: 5000)
        let evaluator = KPIEvaluator(history: history)
        let last: Int64 = 1059
        func union(_ r: Range<Int>) -> Set<UInt32> { r.reduce(into: Set<UInt32>()) { $0.formUnion(sets[$1]) } }
        #expect(evaluator.value(.dau, first: last, last: last).value == Double(sets[59].count))
        #expect(evaluator.value(.wau, first: last, last: last).value == Double(union(53..<60).count))
        #expect(evaluator.value(.mau, first: last, last: last).value == Double(union(30..<60).count))
        let cur = union(30..<60)
        let prev = union(0..<30)
        let churn = evaluator.value(.churnRate, first: 1030, last: 1059)
        #expect(churn.value == Double(prev.subtracting(cur).count) / Double(prev.count))
        #expect(churn.n == prev.count)
        #expect(evaluator.value(.adoptionRate, first: 1030, last: 1059).value == Double(cur.count) / 5000)
        // Forgetting one user is one cleared bit.
        var b = days[59]
        let someone = sets[59].first!
        b.remove(someone)
        #expect(b.count == sets[59].count - 1)
        #expect(UserBitset(encoded: days[59].encoded()) == days[59])
    }

    @Test func hyperLogLogStaysWithinTwoAndAHalfPercent() {
        var within = 0
        let trials = 120
        for trial in 0..<trials {
            var h = HyperLogLog()
            let n = 2_000 + trial * 100
            for i in 0..<n { h.add(hash: StableHash.hash("trial-\(trial)-user-\(i)")) }
            if abs(h.estimate - Double(n)) / Double(n) <= 0.025 { within += 1 }
        }
        #expect(within * 100 >= trials * 99, "\(within) of \(trials) within ±2.5 %")
        // Small sets are exact-ish (linear counting), merging is a union, bytes round-trip.
        var a = HyperLogLog()
        var b = HyperLogLog()
        for i in 0..<300 { a.add(hash: StableHash.hash("u\(i)")) }
        for i in 200..<600 { b.add(hash: StableHash.hash("u\(i)")) }
        #expect(abs(a.count - 300) <= 3)
        var u = a
        u.merge(b)
        #expect(abs(u.count - 600) <= 8)
        var big = HyperLogLog()
        for i in 0..<50_000 { big.add(hash: StableHash.hash("v\(i)")) }
        #expect(HyperLogLog(encoded: big.encoded()) == big)
        #expect(HyperLogLog(encoded: a.encoded()) == a)
        var merged = a
        merged.merge(big)
        var other = big
        other.merge(a)
        #expect(merged.count == other.count)
    }
}

@Suite struct KPIComparisonTests {
    @Test func comparisonsReadTheShiftedDaysAndSkipPeriodsWithoutData() {
        // 60 days: interactions = 10 per day for the first 30, 20 per day after.
        var days: [Rollup] = []
        for d in 0..<60 {
            var r = Rollup()
            r.byType[Int(EventType.chatInteraction.rawValue)] = d < 30 ? 10 : 20
            days.append(r)
        }
        let evaluator = KPIEvaluator(history: DailyHistory(firstDay: 500, rollups: days), benchmarks: [.interactions: 400])
        let (prev, cmp) = evaluator.comparison(.interactions, period: .previousPeriod, first: 530, last: 559)
        #expect(prev.value == 300)
        #expect(cmp?.change == 300 && cmp?.changePercent == 100 && cmp?.verdict == .better)
        let (bench, bcmp) = evaluator.comparison(.interactions, period: .benchmark, first: 530, last: 559)
        #expect(bench.value == 400 && bcmp?.verdict == .better)   // 600 this window
        let (year, ycmp) = evaluator.comparison(.interactions, period: .lastYear, first: 530, last: 559)
        #expect(year.value == nil && ycmp == nil)
        let (daily, trend) = evaluator.trend(.interactions, days: 10, lastDay: 559)
        #expect(daily.count == 10 && daily.allSatisfy { $0.value == 20 } && trend.direction == .flat)
    }
}
