import DequeModule
import Foundation

/// A rule's per-recipient throttle as written in the rules file:
/// `throttle: { per_recipient: 3/1h, on_excess: reject | delay }`.
public struct ThrottleRule: Sendable, Equatable, Decodable {
    public enum Excess: String, Sendable, Equatable {
        /// `rejected`, reason `recipient_throttled`.
        case reject
        /// Waits (slot-free) until the recipient's oldest send in the window ages out.
        case delay
    }

    /// Sends per recipient within `window`.
    public var count: Int
    public var window: TimeInterval
    public var onExcess: Excess

    public init(count: Int, window: TimeInterval, onExcess: Excess = .reject) {
        self.count = count
        self.window = window
        self.onExcess = onExcess
    }

    /// The longest window: a year.
    static let maxWindow: Double = 365 * 86_400

    /// "3/1h", "10/30m", "1/1d", "5/90s" (a second to a year); nil for anything else.
    public init?(perRecipient text: String, onExcess: Excess) {
        let parts = text.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let count = Int(parts[0]), count > 0 else { return nil }
        var span = parts[1]
        var unit = 1.0
        for (suffix, seconds) in [("min", 60.0), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)] where span.hasSuffix(suffix) {
            span.removeLast(suffix.count)
            unit = seconds
            break
        }
        guard unit != 1 || parts[1].hasSuffix("s") else { return nil }
        let amount = span.isEmpty ? 1 : Double(span)
        // A window from a second to a year: beyond, the instants it is added to would overflow.
        guard let amount, amount.isFinite, (1...Self.maxWindow).contains(amount * unit) else { return nil }
        self.init(count: count, window: amount * unit, onExcess: onExcess)
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case perRecipient = "per_recipient"
        case onExcess = "on_excess"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .perRecipient)
        let excessText = try container.decodeIfPresent(String.self, forKey: .onExcess) ?? Excess.reject.rawValue
        guard let excess = Excess(rawValue: excessText) else {
            throw DecodingError.dataCorruptedError(
                forKey: .onExcess, in: container, debugDescription: "\"\(excessText)\" is neither reject nor delay")
        }
        guard let parsed = ThrottleRule(perRecipient: text, onExcess: excess) else {
            throw DecodingError.dataCorruptedError(
                forKey: .perRecipient, in: container,
                debugDescription: "\"\(text)\" is not a count per span; write it like 3/1h, 10/30m or 1/1d")
        }
        self = parsed
    }

    /// For messages: "3 per 1h".
    var text: String {
        let (amount, unit) =
            window.truncatingRemainder(dividingBy: 86_400) == 0
            ? (window / 86_400, "d")
            : window.truncatingRemainder(dividingBy: 3600) == 0
                ? (window / 3600, "h") : window.truncatingRemainder(dividingBy: 60) == 0 ? (window / 60, "m") : (window, "s")
        return "\(count) per \(Int(amount))\(unit)"
    }
}

/// One partition's per-recipient throttles, as a value over the wall clock: the times of each
/// (rule, recipient)'s sends within the rule's window. Records of one recipient share a partition,
/// so one worker holds the whole count; after a rebalance the new owner rebuilds it from the sent
/// log. Bounded: beyond `capacity` recipients the ones whose last send is oldest are forgotten.
public struct RecipientThrottle: Sendable {
    public enum Decision: Sendable, Equatable {
        case go
        case reject(reason: String)
        case delay(until: Date)
    }

    private var sends: [String: Deque<Date>] = [:]
    public let capacity: Int

    public init(capacity: Int = 200_000) {
        self.capacity = max(1, capacity)
    }

    public var recipients: Int { sends.count }

    static func key(type: String, to: String) -> String { type + "\u{0}" + to }

    /// May `to` get another message of rule `type` now?
    public mutating func check(type: String, to: String, rule: ThrottleRule, now: Date) -> Decision {
        let key = Self.key(type: type, to: to)
        guard var times = sends[key] else { return .go }
        while let first = times.first, first <= now.addingTimeInterval(-rule.window) { times.removeFirst() }
        sends[key] = times.isEmpty ? nil : times
        guard times.count >= rule.count, let oldest = times.first else { return .go }
        switch rule.onExcess {
        case .reject:
            return .reject(reason: "recipient_throttled: \(rule.text) for \(type)")
        case .delay:
            return .delay(until: oldest.addingTimeInterval(rule.window))
        }
    }

    /// `to` got a message of rule `type` at `date`.
    public mutating func record(type: String, to: String, rule: ThrottleRule, at date: Date) {
        let key = Self.key(type: type, to: to)
        var times = sends[key] ?? []
        let position = times.lastIndex { $0 <= date }.map { $0 + 1 } ?? 0
        times.insert(date, at: position)
        while let first = times.first, first <= date.addingTimeInterval(-rule.window) { times.removeFirst() }
        sends[key] = times
        if sends.count > capacity { forgetOldest() }
    }

    /// Drops the tenth of recipients whose last send is oldest.
    private mutating func forgetOldest() {
        let drop = max(1, sends.count / 10)
        let oldest = sends.map { ($0.key, $0.value.last ?? .distantPast) }.sorted { $0.1 < $1.1 }.prefix(drop)
        for (key, _) in oldest { sends[key] = nil }
    }
}
