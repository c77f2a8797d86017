import Foundation

/// A rule's quiet hours, as written: `{ from: "22:00", to: "08:00", zone: "Asia/Shanghai" }`.
/// Requests of the rule that would reach their recipient in the span wait for its end. A span
/// whose `from` is later than its `to` wraps midnight. Times are `HH:MM` or `HH:MM:SS`; the zone
/// is an IANA name or a fixed offset (`+08:00`).
public struct QuietHours: Sendable, Equatable, Decodable {
    public var from: String
    public var to: String
    public var zone: String

    public init(from: String, to: String, zone: String) {
        self.from = from
        self.to = to
        self.zone = zone
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case from, to, zone }
}

/// Quiet hours checked and ready to answer "when may this go?".
struct QuietSpan: Sendable {
    /// Seconds after local midnight.
    let from: Int
    let to: Int
    let calendar: Calendar

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    init(_ hours: QuietHours) throws(Problem) {
        guard let from = Self.secondsOfDay(hours.from) else {
            throw Problem(description: "quiet_hours.from: \"\(hours.from)\" is not a time of day like 22:00")
        }
        guard let to = Self.secondsOfDay(hours.to) else {
            throw Problem(description: "quiet_hours.to: \"\(hours.to)\" is not a time of day like 08:00")
        }
        guard from != to else { throw Problem(description: "quiet_hours: from and to are both \(hours.from); the span is empty") }
        guard let zone = Self.timeZone(hours.zone) else {
            throw Problem(
                description:
                    "quiet_hours.zone: \"\(hours.zone)\" is not a time zone; use an IANA name like Asia/Shanghai or an offset like +08:00")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.from = from
        self.to = to
        self.calendar = calendar
    }

    /// When the quiet span holding `date` ends; nil when `date` is outside every span.
    func end(containing date: Date) -> Date? {
        let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
        let now = (parts.hour ?? 0) * 3600 + (parts.minute ?? 0) * 60 + (parts.second ?? 0)
        let quiet = from < to ? (from <= now && now < to) : (now >= from || now < to)
        guard quiet else { return nil }
        // Inside a span, the next time the clock reads `to` ends it (the later one when a
        // daylight-saving change repeats that hour: late, never early).
        return calendar.nextDate(
            after: date, matching: DateComponents(hour: to / 3600, minute: to % 3600 / 60, second: to % 60),
            matchingPolicy: .nextTime, repeatedTimePolicy: .last, direction: .forward)
    }

    static func secondsOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts.allSatisfy({ $0.count == 2 }) else { return nil }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == parts.count, numbers[0] < 24, numbers[1] < 60, numbers.count == 2 || numbers[2] < 60 else { return nil }
        return numbers[0] * 3600 + numbers[1] * 60 + (numbers.count == 3 ? numbers[2] : 0)
    }

    /// An IANA zone, or a fixed offset `+08:00` / `-0530` / `UTC`.
    static func timeZone(_ text: String) -> TimeZone? {
        if let sign = text.first, sign == "+" || sign == "-" {
            let digits = text.dropFirst().filter { $0 != ":" }
            guard digits.count == 4, let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)), hours <= 14, minutes < 60
            else { return nil }
            return TimeZone(secondsFromGMT: (sign == "+" ? 1 : -1) * (hours * 3600 + minutes * 60))
        }
        return TimeZone(identifier: text)
    }
}

/// When a request may reach its recipient: not before its `not_before`, and outside its rule's
/// quiet hours. `expires_at` still wins: the caller ends a request whose release comes too late.
enum Deferral {
    /// The earliest time after `now` the request may go; nil when it may go now.
    static func release(notBefore: Date?, quiet: QuietSpan?, now: Date) -> Date? {
        var earliest = max(now, notBefore ?? now)
        if let quiet, let end = quiet.end(containing: earliest) { earliest = end }
        return earliest > now ? earliest : nil
    }
}
