import Foundation
import Kafka
import WeChat

/// Turns one consumed record into its final outcome, in two steps the partition scheduler drives:
/// `prepare` (decode ▸ account ▸ rules: a send to make, or the outcome at once) and `attempt`
/// (expiry ▸ one send ▸ classification: the outcome, or when to try again). Waiting between
/// attempts is the scheduler's business, so a backing-off record holds no send slot.
///
/// `clock` measures the retry deadline; `now` is the wall clock of `expires_at` and the outcome's
/// timestamps. Both are injected, so tests run on a manual clock.
public struct EventProcessor<C: Clock>: Sendable where C.Duration == Duration {
    let rules: RuleBook
    let sender: any MessageSender
    let retry: RetryPolicy
    let clock: C
    let now: @Sendable () -> Date
    let random: @Sendable () -> Double
    /// WeChat answered 45009 for this account at this time: returns when its quota starts over.
    let quotaExhausted: @Sendable (_ account: String, _ at: Date) -> Date
    /// Every answer (or transport failure) of a send: whether the account's API looked healthy.
    let answered: @Sendable (_ account: String, _ healthy: Bool) -> Void
    /// Recipients who left or refused (the recipients topic); nil: none are suppressed.
    let suppressions: Suppressions?
    /// The accounts' template libraries (nil: not read): a template known missing is not sent.
    let templates: TemplateCatalog?

    public init(
        rules: RuleBook, sender: any MessageSender, retry: RetryPolicy, clock: C,
        now: @escaping @Sendable () -> Date = Date.init, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        quotaExhausted: @escaping @Sendable (String, Date) -> Date = { QuotaReset.shanghaiMidnight.next(after: $1) },
        answered: @escaping @Sendable (String, Bool) -> Void = { _, _ in }, suppressions: Suppressions? = nil,
        templates: TemplateCatalog? = nil
    ) {
        self.templates = templates
        self.suppressions = suppressions
        self.quotaExhausted = quotaExhausted
        self.answered = answered
        self.rules = rules
        self.sender = sender
        self.retry = retry
        self.clock = clock
        self.now = now
        self.random = random
    }

    /// A request that passed the checks and waits for (another) attempt.
    public struct PendingSend: Sendable {
        public let message: OutgoingMessage
        public let event: RequestEvent
        /// Not before this time (its `not_before`, its rule's quiet hours); nil: now.
        public let releaseAt: Date?
        public fileprivate(set) var outcome: Outcome
        fileprivate var firstAttempt: C.Instant?
        /// The start of the first attempt that was written and got no answer (WeChat may have it).
        fileprivate var firstUnanswered: C.Instant?
    }

    public enum Preparation: Sendable {
        case send(PendingSend)
        case finished(Outcome)
    }

    public enum AttemptResult: Sendable {
        case finished(Outcome)
        /// Try again at this instant (backoff, or the next minute for 45011).
        case retry(PendingSend, at: C.Instant)
        /// Cancelled before an answer: the record is redelivered (`client_msg_id` makes that safe).
        case cancelled
    }

    public func prepare(_ record: KafkaMessage) -> Preparation {
        let receivedAt = now()
        var outcome = Outcome(
            id: "\(record.topic)/\(record.partition)/\(record.offset)", status: .rejected, attempts: 0,
            source: record.topicPartition, offset: record.offset, receivedAt: receivedAt, completedAt: receivedAt,
            needsDeadLetter: false
        )
        outcome.trace = Self.trace(of: record)
        // A request back from the delay topics keeps its producer's timestamp in a header.
        outcome.requestedAt =
            record.dateHeader("wxpush-original-timestamp") ?? record.timestampMilliseconds.map(Date.init(milliseconds:))
        let event: RequestEvent
        switch RequestEvent.decode(record.value) {
        case .failure(let invalid):
            outcome.id = invalid.id ?? outcome.id
            return .finished(outcome.finished(.rejected, .invalidEvent, "invalid_event: \(invalid.problem)", deadLetter: true, at: now()))
        case .success(let decoded):
            event = decoded
        }
        outcome.id = event.id
        outcome.app = event.app
        outcome.to = event.to
        outcome.type = event.type
        guard sender.hasAccount(event.app) else {
            return .finished(
                outcome.finished(.rejected, .unknownApp, "unknown_app: no WeChat account named \(event.app)", deadLetter: true, at: now()))
        }
        switch rules.message(for: event) {
        case .failure(let rejection):
            return .finished(outcome.finished(.rejected, rejection.code, rejection.reason, deadLetter: true, at: now()))
        case .success(let message):
            outcome.templateID = message.templateID
            outcome.messageKind = message.kind
            if let missing = templates?.missing(message.templateID, kind: message.kind, account: event.app) {
                return .finished(outcome.finished(.rejected, .templateMissing, "template_missing: \(missing)", deadLetter: true, at: now()))
            }
            let quiet = event.message == nil ? rules.quietHours(for: event.type) : nil
            let release = Deferral.release(notBefore: event.notBefore, quiet: quiet, now: receivedAt)
            if let release, let expiry = event.expiresAt, release >= expiry {
                let why = release == event.notBefore ? "not_before" : "the rule's quiet hours"
                let reason =
                    "expired: expires_at \(Timestamp.format(expiry)) comes before it may be sent (\(why): \(Timestamp.format(release)))"
                return .finished(outcome.finished(.expired, .expired, reason, at: now()))
            }
            return .send(PendingSend(message: message, event: event, releaseAt: release, outcome: outcome))
        }
    }

    /// The outcome of a request WeChat accepted before a restart or rebalance (`SentLog`): `sent`
    /// with its msgid, no attempt made now.
    public func alreadySent(_ pending: PendingSend, msgid: Int64) -> Outcome {
        var outcome = pending.outcome
        outcome.msgid = msgid
        outcome.errcode = 0
        outcome.errmsg = "ok"
        return outcome.finished(.sent, .alreadySent, "already_sent: accepted by WeChat before a restart or rebalance (sent log)", at: now())
    }

    /// The outcome of a request whose recipient left or refused (the recipients topic), asked at
    /// its send turn (after the sent log answered a redone record, so a send that reached the user
    /// before an unfollow keeps its `sent`): `rejected`, no call, nothing for the DLQ.
    public func suppressed(_ pending: PendingSend) -> Outcome? {
        let event = pending.event
        guard
            let suppression = suppressions?.suppression(
                app: event.app, openid: event.to, kind: pending.message.kind, templateID: pending.message.templateID)
        else { return nil }
        let reason = "suppressed: \(suppression.source) at \(Timestamp.format(suppression.at)) (\(suppression.scope.text))"
        return pending.outcome.finished(.rejected, .suppressed, reason, at: now())
    }

    /// The outcome of a request whose id was sent within the dedup window (another record, maybe
    /// from a producer's retry): `sent` with the first send's msgid, no attempt made.
    public func duplicate(_ pending: PendingSend, msgid: Int64, sentAt: Date) -> Outcome {
        var outcome = pending.outcome
        outcome.msgid = msgid
        outcome.errcode = 0
        outcome.errmsg = "ok"
        let reason = "already_sent: this id was sent at \(Timestamp.format(sentAt)) (within dispatcher.dedup_window)"
        return outcome.finished(.sent, .alreadySent, reason, at: now())
    }

    /// The outcome of a request over its rule's per-recipient throttle (`on_excess: reject`).
    public func throttled(_ pending: PendingSend, reason: String) -> Outcome {
        pending.outcome.finished(.rejected, .recipientThrottled, reason, at: now())
    }

    /// The W3C `traceparent` header of the record, else its `x-request-id` (bounded in size).
    static func trace(of record: KafkaMessage) -> TraceHeader? {
        for name in ["traceparent", "x-request-id"] {
            if let value = record.header(name), value.count <= 256 {
                return TraceHeader(name: name, value: String(decoding: value, as: UTF8.self))
            }
        }
        return nil
    }

    /// One attempt. The WeChat client refreshes a rejected token and retries once inside it; what
    /// fails after that is retried here like any retryable error.
    public func attempt(_ pending: PendingSend) async -> AttemptResult {
        var pending = pending
        let event = pending.event
        if let expiry = event.expiresAt, now() >= expiry {
            return .finished(
                pending.outcome.finished(.expired, .expired, "expired: expires_at \(Timestamp.format(expiry)) passed", at: now()))
        }
        if Task.isCancelled { return .cancelled }
        // Checked before sending too: a wait (a backoff, a quota reset) may have carried an
        // earlier unanswered write past the window in which a resend is safe.
        if let first = pending.firstUnanswered,
            Resend.decide(kind: pending.message.kind, progress: .notWritten, sinceFirstWrite: first.duration(to: clock.now))
                == .fateUnknown
        {
            return .finished(fateUnknown(pending.outcome, kind: pending.message.kind, errmsg: pending.outcome.errmsg ?? ""))
        }
        let attemptStarted = clock.now
        let attemptDate = now()
        let started = pending.firstAttempt ?? attemptStarted
        pending.firstAttempt = started
        pending.outcome.attempts += 1
        let result = await sender.send(pending.message, account: event.app, trace: pending.outcome.trace)
        if Task.isCancelled && result.action != .success { return .cancelled }
        answered(event.app, result.action != .retry)
        pending.outcome.errcode = result.errcode
        pending.outcome.errmsg = result.errmsg
        let outcome = pending.outcome
        let attempts = outcome.attempts
        switch result.action {
        case .success:
            pending.outcome.msgid = result.msgid
            return .finished(pending.outcome.finished(.sent, nil, nil, at: now()))
        case .terminal where result.errcode == Self.invalidTemplateErrcode:
            // Its next requests are answered without a call until the library is read again.
            templates?.refused(pending.message.templateID, kind: pending.message.kind, account: event.app, at: attemptDate)
            return .finished(
                outcome.finished(
                    .rejected, .templateMissing, "template_missing: wechat_errcode: \(result.errcode) \(result.errmsg)", deadLetter: true,
                    at: now()))
        case .terminal:
            // Configuration-class and unknown errcodes also go to the DLQ: once the operator fixes
            // the template or the whitelist, the copies can be replayed.
            return .finished(
                outcome.finished(
                    .rejected, .errcodeTerminal, "wechat_errcode: \(result.errcode) \(result.errmsg)",
                    deadLetter: ErrorAction.needsOperator(errcode: result.errcode), at: now()))
        case .accountMisconfigured:
            return .finished(
                outcome.finished(
                    .failed, .accountMisconfigured, "account_misconfigured: \(event.app) (errcode \(result.errcode))", deadLetter: true,
                    at: now()))
        case .waitForQuota(.daily):
            // Never burn the backlog: wait for the reset (or the expiry, which then ends it `expired`).
            let reset = quotaExhausted(event.app, now())
            return .retry(pending, at: clock.now.advanced(by: Self.wait(until: reset, expiresAt: event.expiresAt, from: now())))
        case .waitForQuota(.minute):
            let wait = untilNextMinute()
            guard clock.now.advanced(by: wait) < started.advanced(by: retry.deadline) else {
                return .finished(
                    outcome.finished(
                        .failed, .retriesExhausted, "retries_exhausted: the per-minute limit (45011) outlasts the retry deadline",
                        deadLetter: true, at: now()))
            }
            return .retry(pending, at: clock.now.advanced(by: wait))
        case .retry, .refreshToken:
            if result.progress == .writtenNoAnswer, pending.firstUnanswered == nil { pending.firstUnanswered = attemptStarted }
            let sinceFirstWrite = pending.firstUnanswered.map { $0.duration(to: clock.now) }
            if Resend.decide(kind: pending.message.kind, progress: result.progress, sinceFirstWrite: sinceFirstWrite) == .fateUnknown {
                return .finished(fateUnknown(outcome, kind: pending.message.kind, errmsg: result.errmsg))
            }
            let elapsed = started.duration(to: clock.now)
            guard let backoff = retry.backoff(afterAttempt: attempts, elapsed: elapsed, random: random()) else {
                return .finished(
                    outcome.finished(
                        .failed, .retriesExhausted, "retries_exhausted: \(attempts) attempts, last errcode \(result.errcode)",
                        deadLetter: true,
                        at: now()))
            }
            return .retry(pending, at: clock.now.advanced(by: backoff))
        }
    }

    /// WeChat's answer to a template id that is not (or no longer) the account's.
    static var invalidTemplateErrcode: Int { 40037 }

    /// The end of a send WeChat may have delivered and would deliver again: `failed`, with a DLQ
    /// copy, never sent a second time.
    private func fateUnknown(_ outcome: Outcome, kind: MessageKind, errmsg: String) -> Outcome {
        let why =
            kind == .template
            ? "a resend now would be past client_msg_id's de-duplication window"
            : "WeChat does not de-duplicate \(kind.rawValue) messages"
        return outcome.finished(
            .failed, .fateUnknown, "fate_unknown: written to WeChat without an answer (\(errmsg)); \(why), so it is not sent again",
            deadLetter: true, at: now())
    }

    /// From `date` until `instant`, or until just past `expiresAt` when that comes first.
    static func wait(until instant: Date, expiresAt: Date?, from date: Date) -> Duration {
        let end = min(instant, expiresAt.map { $0.addingTimeInterval(0.05) } ?? instant)
        return .milliseconds(Int64((max(0, end.timeIntervalSince(date)) * 1000).rounded()))
    }

    private func untilNextMinute() -> Duration {
        let seconds = now().timeIntervalSince1970
        return .milliseconds(Int64((60 - seconds.truncatingRemainder(dividingBy: 60)) * 1000) + 50)
    }
}

extension Outcome {
    init(
        id: String, status: Status, attempts: Int, source: TopicPartition, offset: Int64, receivedAt: Date, completedAt: Date,
        needsDeadLetter: Bool
    ) {
        self.init(
            id: id, app: nil, to: nil, type: nil, status: status, templateID: nil, msgid: nil, errcode: nil, errmsg: nil,
            reason: nil, attempts: attempts, source: source, offset: offset, receivedAt: receivedAt, completedAt: completedAt,
            needsDeadLetter: needsDeadLetter
        )
    }

    func finished(_ status: Status, _ code: ReasonCode?, _ reason: String?, deadLetter: Bool = false, at time: Date) -> Outcome {
        var copy = self
        copy.status = status
        copy.reasonCode = code
        copy.reason = reason
        copy.needsDeadLetter = deadLetter || status == .failed
        copy.completedAt = time
        return copy
    }
}
