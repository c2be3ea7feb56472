import Foundation

/// Day boundaries and calendar periods in the configured time zone (default UTC).
///
/// A *day number* counts local calendar days since 1970-01-01 (day 0), so a day's rollup,
/// its active-user bitset and every "last month" / "last year" shift are plain integer
/// arithmetic once an instant is mapped to its local day. DST changes are handled by asking
/// the zone for its offset, cached between transitions (one comparison per event).
public struct LocalCalendar: Sendable {
    public let timeZone: TimeZone
    var cacheFrom: Int64 = .max
    var cacheUntil: Int64 = .min
    var cacheOffset: Int64 = 0

    public init(timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.timeZone = timeZone
    }

    /// Parses an IANA zone name (`UTC`, `Europe/Paris`, `America/New_York`).
    public init?(identifier: String) {
        guard let tz = TimeZone(identifier: identifier) else { return nil }
        self.init(timeZone: tz)
    }

    /// Seconds east of UTC at UTC second `t`.
    public func offset(atSecond t: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))))
    }

    /// `offset(atSecond:)` with a cache valid until the zone's next transition.
    @inline(__always)
    public mutating func cachedOffset(atSecond t: Int64) -> Int64 {
        if t >= cacheFrom && t < cacheUntil { return cacheOffset }
        let date = Date(timeIntervalSince1970: Double(t))
        cacheOffset = Int64(timeZone.secondsFromGMT(for: date))
        // Valid from the last transition (or an hour back) to the next one (or a year ahead).
        cacheFrom = t - 3600
        if let next = timeZone.nextDaylightSavingTimeTransition(after: date) {
            cacheUntil = Int64(next.timeIntervalSince1970.rounded(.down))
        } else {
            cacheUntil = t + 366 * 86_400
        }
        if offset(atSecond: cacheFrom) != cacheOffset { cacheFrom = t }
        return cacheOffset
    }

    /// The local day number of UTC second `t`.
    @inline(__always)
    public mutating func day(ofSecond t: Int64) -> Int64 {
        LocalCalendar.floorDiv(t + cachedOffset(atSecond: t), 86_400)
    }

    /// The local day number of UTC second `t` (uncached).
    public func dayNumber(ofSecond t: Int64) -> Int64 {
        LocalCalendar.floorDiv(t + offset(atSecond: t), 86_400)
    }

    /// The UTC second at which local day `day` starts (its first existing local instant).
    public func start(ofDay day: Int64) -> Int64 {
        let local = day * 86_400
        var t = local - offset(atSecond: local)
        // Re-evaluate at the candidate; converges in two steps across a transition.
        for _ in 0..<2 {
            let candidate = local - offset(atSecond: t)
            if candidate == t { break }
            t = candidate
        }
        if dayNumber(ofSecond: t) < day { t += 3600 }  // midnight skipped by a DST jump
        return t
    }

    /// Seconds in local day `day` (86,400, or 23/25 hours on DST days).
    public func length(ofDay day: Int64) -> Int64 { start(ofDay: day + 1) - start(ofDay: day) }

    // MARK: - Civil dates (proleptic Gregorian, Howard Hinnant's algorithms)

    /// A calendar date.
    public struct CivilDate: Sendable, Equatable, CustomStringConvertible {
        public var year: Int
        public var month: Int
        public var day: Int
        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }
        public var description: String {
            let m = month < 10 ? "0\(month)" : "\(month)"
            let d = day < 10 ? "0\(day)" : "\(day)"
            return "\(year)-\(m)-\(d)"
        }
    }

    public static func date(ofDay z0: Int64) -> CivilDate {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return CivilDate(year: Int(m <= 2 ? y + 1 : y), month: Int(m), day: Int(d))
    }

    public static func day(of date: CivilDate) -> Int64 {
        let y = Int64(date.month <= 2 ? date.year - 1 : date.year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(date.month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(date.day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Parses `YYYY-MM-DD`.
    public static func parseDate(_ text: String) -> CivilDate? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m) else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `day` moved by `months` calendar months, the day of month clamped (Mar 31 − 1 month = Feb 28/29).
    public static func adding(months: Int, to day: Int64) -> Int64 {
        let d = date(ofDay: day)
        let total = d.year * 12 + (d.month - 1) + months
        let y = total >= 0 ? total / 12 : (total - 11) / 12
        let m = total - y * 12 + 1
        return self.day(of: CivilDate(year: y, month: m, day: min(d.day, daysInMonth(year: y, month: m))))
    }

    /// 0 = Monday … 6 = Sunday (ISO 8601).
    public static func weekday(ofDay day: Int64) -> Int { Int(((day % 7) + 7 + 3) % 7) }

    public static func startOfWeek(_ day: Int64) -> Int64 { day - Int64(weekday(ofDay: day)) }
    public static func startOfMonth(_ day: Int64) -> Int64 { day - Int64(date(ofDay: day).day - 1) }
    public static func startOfYear(_ day: Int64) -> Int64 { self.day(of: CivilDate(year: date(ofDay: day).year, month: 1, day: 1)) }
    public static func startOfQuarter(_ day: Int64) -> Int64 {
        let d = date(ofDay: day)
        return self.day(of: CivilDate(year: d.year, month: (d.month - 1) / 3 * 3 + 1, day: 1))
    }

    @inline(__always) static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}
