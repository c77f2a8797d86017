import Foundation
import Kafka
import WeChat

/// Turns one consumed record into its final outcome: decode, check expiry, render, send with retries.
/// Returns nil only when cancelled mid-way (the record is then redelivered; `client_msg_id` keeps
/// WeChat from sending it twice).
public struct EventProcessor: Sendable {
    let rules: RuleBook
    let sender: any MessageSender
    let retry: RetryPolicy
    let now: @Sendable () -> Date
    let random: @Sendable () -> Double

    public init(
        rules: RuleBook, sender: any MessageSender, retry: RetryPolicy,
        now: @escaping @Sendable () -> Date = Date.init, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.rules = rules
        self.sender = sender
        self.retry = retry
        self.now = now
        self.random = random
    }

    public func process(_ record: KafkaMessage) async -> Outcome? {
        let receivedAt = now()
        var outcome = Outcome(
            id: "\(record.topic)/\(record.partition)/\(record.offset)", status: .rejected, attempts: 0,
            source: record.topicPartition, offset: record.offset, receivedAt: receivedAt, completedAt: receivedAt,
            needsDeadLetter: false
        )
        let event: RequestEvent
        switch RequestEvent.decode(record.value) {
        case .failure(let invalid):
            outcome.id = invalid.id ?? outcome.id
            return outcome.finished(.rejected, reason: "invalid_event: \(invalid.problem)", deadLetter: true, at: now())
        case .success(let decoded):
            event = decoded
        }
        outcome.id = event.id
        outcome.app = event.app
        outcome.to = event.to
        outcome.type = event.type
        guard sender.hasAccount(event.app) else {
            return outcome.finished(.rejected, reason: "unknown_app: no WeChat account named \(event.app)", deadLetter: true, at: now())
        }
        let message: OutgoingMessage
        switch rules.message(for: event) {
        case .failure(let rejection):
            return outcome.finished(.rejected, reason: rejection.reason, deadLetter: true, at: now())
        case .success(let rendered):
            message = rendered
        }
        outcome.templateID = message.templateID
        return await send(message, event: event, outcome: outcome)
    }

    private func send(_ message: OutgoingMessage, event: RequestEvent, outcome: Outcome) async -> Outcome? {
        var outcome = outcome
        let started = ContinuousClock.now
        while true {
            if let expiry = event.expiresAt, now() >= expiry {
                return outcome.finished(.expired, reason: "expired: expires_at \(Timestamp.format(expiry)) passed", at: now())
            }
            if Task.isCancelled { return nil }
            outcome.attempts += 1
            let result = await sender.send(message, account: event.app)
            outcome.errcode = result.errcode
            outcome.errmsg = result.errmsg
            switch result.action {
            case .success:
                outcome.msgid = result.msgid
                return outcome.finished(.sent, reason: nil, at: now())
            case .terminal:
                return outcome.finished(.rejected, reason: "wechat_errcode: \(result.errcode) \(result.errmsg)", at: now())
            case .accountMisconfigured:
                return outcome.finished(
                    .failed, reason: "account_misconfigured: \(event.app) (errcode \(result.errcode))", deadLetter: true, at: now())
            case .waitForQuota(.daily):
                return outcome.finished(
                    .failed, reason: "quota_exhausted: daily quota of \(event.app) reached", deadLetter: true, at: now())
            case .retry, .refreshToken, .waitForQuota(.minute):
                let wait = result.action == .waitForQuota(.minute) ? untilNextMinute() : nil
                let elapsed = ContinuousClock.now - started
                guard let backoff = retry.backoff(afterAttempt: outcome.attempts, elapsed: elapsed, random: random()) else {
                    return outcome.finished(
                        .failed, reason: "retries_exhausted: \(outcome.attempts) attempts, last errcode \(result.errcode)",
                        deadLetter: true, at: now())
                }
                do { try await Task.sleep(for: wait ?? backoff) } catch { return nil }
            }
        }
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

    func finished(_ status: Status, reason: String?, deadLetter: Bool = false, at time: Date) -> Outcome {
        var copy = self
        copy.status = status
        copy.reason = reason
        copy.needsDeadLetter = deadLetter || status == .failed
        copy.completedAt = time
        return copy
    }
}
