import Foundation

/// An account's configured limits (`wechat.accounts.<name>.limits`), account-wide: each instance
/// holds the share of them that its share of the request partitions gives it.
public struct AccountLimits: Sendable, Equatable {
    /// Sends per second; nil: no rate limit.
    public var rate: Double?
    /// Sends allowed at once after a quiet spell; default one second of `rate`.
    public var burst: Double?
    /// Sends per quota day; nil: WeChat's 45009 is the only stop.
    public var dailyQuota: Int?
    public var quotaReset: QuotaReset

    public init(rate: Double? = nil, burst: Double? = nil, dailyQuota: Int? = nil, quotaReset: QuotaReset = .shanghaiMidnight) {
        self.rate = rate
        self.burst = burst
        self.dailyQuota = dailyQuota
        self.quotaReset = quotaReset
    }
}

/// When WeChat's daily quota starts over: a time of day in a time zone (midnight in Beijing).
public struct QuotaReset: Sendable, Equatable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var timeZone: TimeZone

    public static let shanghaiMidnight = QuotaReset(hour: 0, minute: 0, timeZone: TimeZone(secondsFromGMT: 8 * 3600)!)

    public init(hour: Int, minute: Int, timeZone: TimeZone) {
        self.hour = hour
        self.minute = minute
        self.timeZone = timeZone
    }

    /// "HH:MM ZONE": an IANA zone name ("Asia/Shanghai") or a UTC offset ("+08:00", "UTC").
    /// Asia/Shanghai has had no daylight saving since 1991, so it is the fixed +08:00 even where
    /// the machine has no time zone database.
    public init?(parsing text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let clock = parts[0].split(separator: ":")
        guard clock.count == 2, let hour = Int(clock[0]), let minute = Int(clock[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        let zone = String(parts[1])
        let timeZone: TimeZone?
        if zone == "Asia/Shanghai" {
            timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        } else if zone == "UTC" || zone == "Z" {
            timeZone = TimeZone(secondsFromGMT: 0)
        } else if let first = zone.first, first == "+" || first == "-" {
            let digits = zone.dropFirst().split(separator: ":")
            guard digits.count == 2, let hours = Int(digits[0]), let minutes = Int(digits[1]), hours <= 14, minutes < 60 else { return nil }
            timeZone = TimeZone(secondsFromGMT: (first == "-" ? -1 : 1) * (hours * 3600 + minutes * 60))
        } else {
            timeZone = TimeZone(identifier: zone)
        }
        guard let timeZone else { return nil }
        self.init(hour: hour, minute: minute, timeZone: timeZone)
    }

    /// The first reset strictly after `date`.
    public func next(after date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let day = calendar.dateComponents([.year, .month, .day], from: date)
        var components = DateComponents(year: day.year, month: day.month, day: day.day, hour: hour, minute: minute)
        components.timeZone = timeZone
        let today = calendar.date(from: components) ?? date
        return today > date ? today : calendar.date(byAdding: .day, value: 1, to: today) ?? date.addingTimeInterval(86_400)
    }

    public var description: String {
        String(format: "%02d:%02d %@", hour, minute, timeZone.identifier)
    }
}
