import Foundation
import Waiting

/// One account's limits as held by one instance, as a value over a `Clock`: a token bucket for
/// the rate and a counter for the daily quota, both scaled by `share` (this instance's part of
/// the account-wide budget). Sends reserve their turn: a send over the rate is told the instant
/// its token will be there, so records parked for the limit wake one by one at the rate instead
/// of all at once.
///
/// The quota day runs on the wall clock (`Date`, for the reset time of day); the bucket on `C`.
public struct AccountLimiter<C: Clock>: Sendable where C.Duration == Duration {
    public enum Decision: Sendable, Equatable {
        case go
        /// Not before this instant. `reserved`: the send's token is taken, go then without asking again.
        case wait(until: C.Instant, reserved: Bool)
    }

    public let limits: AccountLimits
    public private(set) var share = 1.0
    private var tokens: Double
    private var refilled: C.Instant?
    private var day: (ends: Date, used: Int)?
    /// WeChat answered 45009: no sends until this reset, whatever the count says.
    private var exhaustedUntil: Date?
    /// The daily limit WeChat reported (`quota/get`), when lower than the configured one or none is.
    private var reportedLimit: Int?

    public init(limits: AccountLimits) {
        self.limits = limits
        tokens = limits.burst ?? limits.rate ?? 0
    }

    /// Sends per second this instance may make (nil: unlimited).
    public var rate: Double? { limits.rate.map { $0 * share } }
    private var capacity: Double { max(1, (limits.burst ?? limits.rate ?? 1) * share) }

    /// The account's daily quota: the configured one, or WeChat's when that is lower (or the only one).
    public var dailyQuota: Int? {
        switch (limits.dailyQuota, reportedLimit) {
        case (let configured?, let reported?): min(configured, reported)
        case (let configured, let reported): configured ?? reported
        }
    }

    /// This instance's part of the daily quota.
    public var dailyBudget: Int? { dailyQuota.map { Self.scaled($0, by: share, rounding: .down) } }

    /// `count × share` as a whole number, saturating (a reported quota may be huge).
    private static func scaled(_ count: Int, by share: Double, rounding: FloatingPointRoundingRule) -> Int {
        let value = (Double(count) * share).rounded(rounding)
        return value >= 9e18 ? Int.max / 2 : max(0, Int(value))
    }
    public var usedToday: Int { day?.used ?? 0 }

    /// Asks for one send now.
    public mutating func reserve(now: C.Instant, date: Date) -> Decision {
        if let reset = quotaBlockedUntil(date) {
            return .wait(until: now.advanced(by: Self.duration(seconds: reset.timeIntervalSince(date))), reserved: false)
        }
        if dailyQuota != nil { day?.used += 1 }
        guard let rate, rate > 0 else { return .go }
        refill(now: now, rate: rate)
        tokens -= 1
        if tokens >= 0 { return .go }
        return .wait(until: now.advanced(by: Self.duration(seconds: -tokens / rate)), reserved: true)
    }

    /// WeChat says the quota is used up (45009): wait for the next reset; returns it.
    public mutating func quotaExhausted(date: Date) -> Date {
        let reset = limits.quotaReset.next(after: date)
        exhaustedUntil = reset
        return reset
    }

    /// WeChat's `quota/get`: its daily limit and what the whole account used today; this instance
    /// counts its share of that use from now on.
    public mutating func calibrate(dailyLimit: Int, usedToday used: Int, date: Date) {
        reportedLimit = dailyLimit
        day = (limits.quotaReset.next(after: date), Self.scaled(used, by: share, rounding: .up))
    }

    /// An operator cleared the quota (WeChat's `clear_quota`, or a raised quota): the day's count
    /// starts over and a 45009 wait ends.
    public mutating func resetQuota() {
        exhaustedUntil = nil
        day = nil
    }

    /// The records parked for the rate are about to ask again (their limits changed): their
    /// reservations are dropped, so the bucket is not charged twice.
    public mutating func forgetReservations() {
        tokens = max(tokens, 0)
    }

    /// A new share after a rebalance. The bucket keeps what it has, within the new capacity.
    public mutating func setShare(_ share: Double, now: C.Instant) {
        if let rate { refill(now: now, rate: rate) }
        self.share = min(1, max(0, share))
        tokens = min(tokens, capacity)
    }

    private mutating func refill(now: C.Instant, rate: Double) {
        if let refilled {
            tokens = min(capacity, tokens + refilled.duration(to: now).seconds * rate)
        }
        refilled = now
    }

    /// Whole nanoseconds, so waits compare exactly.
    private static func duration(seconds: Double) -> Duration { .nanoseconds(Int64((seconds * 1e9).rounded())) }

    /// The reset to wait for, when the day's quota is used up (counted here or said by WeChat).
    private mutating func quotaBlockedUntil(_ date: Date) -> Date? {
        if let until = exhaustedUntil {
            if date < until { return until }
            exhaustedUntil = nil
        }
        guard let budget = dailyBudget else { return nil }
        if day == nil || date >= day!.ends { day = (limits.quotaReset.next(after: date), 0) }
        return usedToday >= budget ? day?.ends : nil
    }
}
