import Foundation
import Waiting

/// One account's limits as held by one instance, as a value over a `Clock`: a token bucket for
/// the rate and a counter for the daily quota, both scaled by `share` (this instance's part of
/// the account-wide budget). Sends reserve their turn: a send over the rate is told the instant
/// its token will be there, so records parked for the limit wake one by one at the rate instead
/// of all at once.
///
/// Priorities (request topics with a priority each) get a bucket each. While several have demand
/// (records parked for the rate, or a send asked within the last second), the highest takes
/// `1 - minimumShare` of the rate and the others split `minimumShare`; alone, a priority takes it
/// all. When that split changes, `reserve` says so: reservations made at the old split must ask
/// again (the caller wakes them).
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
    /// What the lower priorities keep of a bound rate, together.
    public let minimumShare: Double
    /// Per priority: its token bucket and its part of the rate.
    private var buckets: [Int: Bucket] = [:]
    /// Per priority: the last time a send asked (demand lasts a second after it).
    private var lastAsked: [Int: C.Instant] = [:]

    struct Bucket: Sendable {
        var tokens: Double
        var refilled: C.Instant?
        var fraction = 1.0
    }
    private var day: (ends: Date, used: Int)?
    /// WeChat answered 45009: no sends until this reset, whatever the count says.
    private var exhaustedUntil: Date?
    /// The daily limit WeChat reported (`quota/get`), when lower than the configured one or none is.
    private var reportedLimit: Int?

    public init(limits: AccountLimits, minimumShare: Double = 0.1) {
        self.limits = limits
        self.minimumShare = min(0.5, max(0.01, minimumShare))
    }

    /// Sends per second this instance may make (nil: unlimited).
    public var rate: Double? { limits.rate.map { $0 * share } }
    private func capacity(_ fraction: Double) -> Double { max(1, (limits.burst ?? limits.rate ?? 1) * share * fraction) }

    /// The part of the rate each priority has now (1 for a lone one).
    public var fractions: [Int: Double] { buckets.mapValues(\.fraction) }

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

    /// Asks for one send now for a record of `priority`; `parked`: the priorities that have
    /// records parked for this account's rate. `splitChanged`: the priorities' parts moved, so the
    /// reservations made before must ask again.
    public mutating func reserve(now: C.Instant, date: Date) -> Decision {
        reserve(now: now, date: date, priority: 0, parked: []).decision
    }

    public mutating func reserve(
        now: C.Instant, date: Date, priority: Int, parked: Set<Int>
    ) -> (decision: Decision, splitChanged: Bool) {
        if let reset = quotaBlockedUntil(date) {
            return (.wait(until: now.advanced(by: Self.duration(seconds: reset.timeIntervalSince(date))), reserved: false), false)
        }
        if dailyQuota != nil { day?.used += 1 }
        guard let rate, rate > 0 else { return (.go, false) }
        lastAsked[priority] = now
        let splitChanged = moveSplit(now: now, parked: parked)
        var bucket = buckets[priority]!
        // Above 0: `minimumShare` is at least 0.01.
        let classRate = rate * bucket.fraction
        refill(&bucket, now: now, rate: classRate)
        bucket.tokens -= 1
        buckets[priority] = bucket
        if bucket.tokens >= 0 { return (.go, splitChanged) }
        return (.wait(until: now.advanced(by: Self.duration(seconds: -bucket.tokens / classRate)), reserved: true), splitChanged)
    }

    /// The split again, when nobody asked (a priority's demand may have ended); true if it moved
    /// (reservations made before are then forgotten).
    public mutating func resplit(now: C.Instant, parked: Set<Int>) -> Bool {
        buckets.count > 1 && moveSplit(now: now, parked: parked)
    }

    /// The split for the priorities with demand now (records parked, or a send asked within the
    /// last second); when it moved, the reservations made at the old one are forgotten.
    private mutating func moveSplit(now: C.Instant, parked: Set<Int>) -> Bool {
        let demand = parked.union(lastAsked.filter { $0.value.duration(to: now) < .seconds(1) }.keys)
        guard !demand.isEmpty, split(now: now, demand: demand) else { return false }
        forgetReservations(now: now)
        return true
    }

    /// Gives the highest priority with demand `1 - minimumShare` and the others with demand an
    /// equal part of the rest (all of it to a lone one); priorities without demand keep their
    /// part until they ask again. Returns whether any part changed.
    private mutating func split(now: C.Instant, demand: Set<Int>) -> Bool {
        let ranked = demand.sorted(by: >)
        var fractions: [Int: Double] = [:]
        if ranked.count <= 1 {
            for priority in ranked { fractions[priority] = 1 }
        } else {
            fractions[ranked[0]] = 1 - minimumShare
            for priority in ranked.dropFirst() { fractions[priority] = minimumShare / Double(ranked.count - 1) }
        }
        var changed = false
        for (priority, fraction) in fractions {
            var bucket = buckets[priority] ?? Bucket(tokens: capacity(fraction), refilled: now, fraction: fraction)
            if bucket.fraction != fraction {
                if let rate { refill(&bucket, now: now, rate: rate * bucket.fraction) }
                bucket.fraction = fraction
                bucket.tokens = min(bucket.tokens, capacity(fraction))
                changed = changed || buckets[priority] != nil
            }
            buckets[priority] = bucket
        }
        return changed
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
    /// reservations are dropped, so neither the bucket nor the day's quota is charged twice. Each
    /// bucket is refilled to `now` first, so the time its debt covered is not handed out again.
    public mutating func forgetReservations(now: C.Instant) {
        for (priority, var bucket) in buckets {
            if let rate { refill(&bucket, now: now, rate: rate * bucket.fraction) }
            let forgiven = max(0, -bucket.tokens).rounded(.down)
            if forgiven > 0, day != nil { day!.used = max(0, day!.used - Int(forgiven)) }
            bucket.tokens = max(bucket.tokens, 0)
            buckets[priority] = bucket
        }
    }

    /// A new share after a rebalance. The buckets keep what they have, within the new capacity.
    public mutating func setShare(_ share: Double, now: C.Instant) {
        for (priority, var bucket) in buckets {
            if let rate { refill(&bucket, now: now, rate: rate * bucket.fraction) }
            buckets[priority] = bucket
        }
        self.share = min(1, max(0, share))
        for (priority, var bucket) in buckets {
            bucket.tokens = min(bucket.tokens, capacity(bucket.fraction))
            buckets[priority] = bucket
        }
    }

    private func refill(_ bucket: inout Bucket, now: C.Instant, rate: Double) {
        if let refilled = bucket.refilled {
            bucket.tokens = min(capacity(bucket.fraction), bucket.tokens + refilled.duration(to: now).seconds * rate)
        }
        bucket.refilled = now
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
