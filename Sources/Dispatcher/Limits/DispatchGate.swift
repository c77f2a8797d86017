import Foundation

/// The dispatcher's `RecordGate`: a record with its turn and a free slot first passes its rule's
/// per-recipient throttle (reject, or park until the window allows), then its account's circuit,
/// rate and daily quota (park until its reserved slot or the reset). An expired record always
/// goes: the attempt ends it `expired` without a send, instead of parking it again and again.
/// A deferred record (`not_before`, quiet hours) parks until its release, keeping its turn.
/// So does one that is answered without a send (`answer`): its id was sent within the dedup
/// window, or its recipient is suppressed; it takes no throttle count, rate token or quota.
struct DispatchGate: RecordGate {
    let rules: RuleBook
    /// The accounts' limits, shared by the process's workers (nil: none configured).
    let limits: SendLimits?
    /// The priority of the partition's topic (for the account limits).
    let priority: Int
    /// The worker's subscription to limit changes: a record that waits on an account makes it
    /// hear that account's next change.
    var worker: ObjectIdentifier?
    /// The rules' per-recipient throttles over this partition's recipients.
    var throttle = RecipientThrottle()
    /// The ids this partition sent within the dedup window.
    var recentSends = RecentSends(window: 0)
    /// The outcome of a send that needs no WeChat call, if it is one (`PartitionWorker` sets it).
    var answer: @Sendable (EventProcessor<ContinuousClock>.PendingSend, inout RecentSends) -> Outcome? = { _, _ in nil }
    /// The wall clock of expiry, throttle windows and releases (tests set it).
    var wallClock: @Sendable () -> Date = Date.init

    mutating func admit(_ item: inout HeldRecord, now: ContinuousClock.Instant) -> GateDecision<ContinuousClock.Instant> {
        guard let send = item.send else { return .go }
        let event = send.event
        let date = wallClock()
        if let answered = answer(send, &recentSends) {
            item.answered = answered
            return .go
        }
        if let expiry = event.expiresAt, date >= expiry { return .go }
        // Quiet hours are asked again at the turn: a record that waited (a quota reset at
        // midnight, a backoff) may have come into its rule's quiet hours since it arrived.
        let quiet = event.message == nil ? rules.quietHours(for: event.type) : nil
        if let release = Deferral.release(notBefore: send.releaseAt, quiet: quiet, now: date) {
            return .park(until: Self.instant(of: release, expiresAt: event.expiresAt, now: now, date: date), .deferred)
        }
        if let rule = rules.throttle(for: event.type) {
            switch throttle.check(type: event.type ?? "", to: event.to, rule: rule, now: date) {
            case .go:
                break
            case .reject(let reason):
                return .reject(reason: reason)
            case .delay(let until):
                return .park(until: Self.instant(of: until, expiresAt: event.expiresAt, now: now, date: date), .throttle)
            }
        }
        guard let limits else { return .go }
        let held = item.reservation
        item.reservation = nil
        let (decision, epoch) = limits.reserve(account: event.app, priority: priority, holding: held, worker: worker)
        switch decision {
        case .go:
            return .go
        case .wait(let until, reserved: true):
            item.reservation = epoch
            return .park(until: until, .limit(account: event.app))
        case .wait(let until, reserved: false):
            // An open circuit or the daily quota: wait for it, or until the event expires.
            let end = date.addingTimeInterval(now.duration(to: until).seconds)
            return .park(until: Self.instant(of: end, expiresAt: event.expiresAt, now: now, date: date), .limit(account: event.app))
        }
    }

    /// A send of `outcome` was accepted: it counts against its recipient's throttle, and its id
    /// is answered, not sent, within the dedup window.
    mutating func sent(_ outcome: Outcome) {
        guard outcome.status == .sent, outcome.attempts > 0 else { return }
        if let msgid = outcome.msgid { recentSends.sent(outcome.id, msgid: msgid, at: outcome.completedAt) }
        guard let rule = rules.throttle(for: outcome.type), let to = outcome.to else { return }
        throttle.record(type: outcome.type ?? "", to: to, rule: rule, at: outcome.completedAt)
    }

    private static func instant(of end: Date, expiresAt: Date?, now: ContinuousClock.Instant, date: Date) -> ContinuousClock.Instant {
        now.advanced(by: EventProcessor<ContinuousClock>.wait(until: end, expiresAt: expiresAt, from: date))
    }
}
