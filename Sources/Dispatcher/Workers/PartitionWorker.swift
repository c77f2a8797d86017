import Foundation
import Kafka
import Logging
import Metrics
import Waiting

/// The task of one assigned partition. It only wires things: records from Kafka, attempts and
/// publishes as child tasks, and the `PartitionScheduler` value that decides what happens next.
/// It waits on one wake-up (the partition's), which records arriving, child tasks reporting, and
/// the partition ending all signal; timers are the wait's deadline. Nothing is polled.
///
/// When the partition ends (revoke, shutdown) the drain deadline starts at once: nothing new is
/// sent, in-flight attempts and publishes finish within `drainTimeout` (then they are cancelled
/// and redelivered), and the commit point is committed while the partition is still ours. A lost
/// partition is cancelled at once and nothing is committed: another member may own it already.
struct PartitionWorker: Sendable {
    let partition: KafkaPartition
    let consumer: KafkaConsumer
    let processor: EventProcessor<ContinuousClock>
    let publisher: OutcomePublisher
    let settings: DispatcherSettings
    let stats: DispatchStats
    let health: DispatcherHealth
    /// The accounts' circuit breakers, rates and quotas, shared by the process's workers.
    let limits: SendLimits?
    let logger: Logger

    enum Report: Sendable {
        case attempted(Int64, EventProcessor<ContinuousClock>.AttemptResult)
        case published(Int64, OutcomePublisher.Result)
        case committed(CommitPoint, succeeded: Bool)
        /// A send went into the sent log at this offset.
        case sentLogged(at: Int64)
    }

    /// Everything the loop keeps about the partition's held records.
    struct State {
        var scheduler: PartitionScheduler<ContinuousClock>
        var sends: [Int64: EventProcessor<ContinuousClock>.PendingSend] = [:]
        var originals: [Int64: KafkaMessage] = [:]
        var skip: Set<Int64>
        var committed: CommitPoint?
        var commitInFlight = false
        var warnedNullKey = false
        /// Records whose send token is reserved, with the account's limit epoch they reserved in:
        /// when their wait ends they go without asking again (a reservation of an older epoch was
        /// forgotten by the limiter, so its record asks again at once).
        var reserved: [Int64: Int] = [:]
        /// Records waiting out a retry backoff or an account limit (for the waiting gauges); the
        /// account is set for a limit wait (the instance's demand for that account).
        var waiting: [Int64: (meter: Meter, limitOf: String?)] = [:]
        /// The limit changes seen so far (`SendLimits.limitChanges`).
        var limitChanges: [String: Int] = [:]
        var quotaResets: [String: Int] = [:]
        var sentLog: SentLogState?
        /// The rules' per-recipient throttles over this partition's recipients.
        var throttle = RecipientThrottle()
        var stop: Stop?
    }

    enum Stop { case drained, drainTimedOut, lost, cancelled, fatal }

    /// The priority of this partition's topic (for the account limits).
    var priority: Int { settings.priority(of: partition.topicPartition.topic) }

    func run() async {
        if let limits, limits.hasLimits {
            // The share needs the topic's partition count: without it, nothing is sent from here
            // (a guess could take the whole account's rate).
            guard let totals = await partitionCounts() else { return }
            limits.partition(partition.topicPartition, assigned: true, totals: totals)
        }
        defer { limits?.partition(partition.topicPartition, assigned: false, totals: [:]) }
        let worker = ObjectIdentifier(partition.wakeup)
        limits?.register(partition.wakeup, as: worker, true)
        defer { limits?.register(partition.wakeup, as: worker, false) }
        let start = await startingPoint()
        var state = State(scheduler: PartitionScheduler(limits: settings.partitionLimits), skip: start.skip, committed: start.committed)
        if publisher.sentLog != nil {
            guard let sentLog = await sentLogStart(committed: start.committed, throttle: &state.throttle) else { return }
            state.sentLog = sentLog
        }
        state.limitChanges = limits?.limitChanges ?? [:]
        state.quotaResets = limits?.quotaResets ?? [:]
        let mailbox = Mailbox<Report>(wakeup: partition.wakeup)
        let drainDeadline = await withDiscardingTaskGroup { group in
            var drainDeadline: ContinuousClock.Instant?
            var nextCommit = ContinuousClock.now + settings.commitInterval
            while state.stop == nil {
                if drainDeadline == nil && (partition.isEnded || Task.isCancelled) {
                    drainDeadline = .now + settings.drainTimeout
                    state.scheduler.drain()
                    if partition.isLost { state.stop = .lost } else if Task.isCancelled { state.stop = .cancelled }
                }
                take(&state, group: &group, mailbox: mailbox)
                wakeAfterLimitChange(&state)
                for report in mailbox.takeAll() { handle(report, &state, group: &group, mailbox: mailbox) }
                perform(state.scheduler.timersDue(at: .now), &state, group: &group, mailbox: mailbox)
                if publisher.transactions == nil && drainDeadline == nil && ContinuousClock.now >= nextCommit {
                    commitInBackground(&state, group: &group, mailbox: mailbox)
                    nextCommit = .now + settings.commitInterval
                }
                if let deadline = drainDeadline, state.stop == nil {
                    if state.scheduler.isIdle {
                        state.stop = .drained
                    } else if ContinuousClock.now >= deadline {
                        state.stop = .drainTimedOut
                    }
                }
                guard state.stop == nil else { break }
                let commitTimer = drainDeadline == nil && publisher.transactions == nil ? nextCommit : nil
                let timers = [state.scheduler.nextTimer, drainDeadline, commitTimer].compactMap { $0 }
                await partition.wakeup.wait(until: timers.min())
            }
            if state.stop != .drained { group.cancelAll() }
            return drainDeadline ?? .now
        }
        settle(mailbox.takeAll(), &state)
        for offset in Array(state.waiting.keys) { endWait(offset, &state) }
        await finish(state, drainDeadline: drainDeadline)
    }

    /// Every request topic's partition count from the brokers (nil if the partition ends first).
    private func partitionCounts() async -> [String: Int]? {
        await whileOwned(
            "the topics' partition counts are unknown; sends wait for them, as the share of the account limits depends on them"
        ) {
            () throws(KafkaError) in
            var counts: [String: Int] = [:]
            for topic in settings.allRequestTopics {
                do throws(KafkaError) {
                    counts[topic] = try await consumer.partitionCount(of: topic)
                } catch  where topic != partition.topicPartition.topic && [.unknownTopic, .unknownTopicOrPartition].contains(error.code) {
                    // A listed topic that does not exist (yet) has no partitions to share with.
                    counts[topic] = 0
                }
            }
            return counts
        }
    }

    /// `body`'s answer, asked again (1 s, 2 s, … 10 s apart, each failure logged with `problem`)
    /// while the brokers do not answer; nil if the partition ends first (it is then redelivered).
    func whileOwned<T>(_ problem: String, _ body: () async throws(KafkaError) -> T) async -> T? {
        var pause = Duration.seconds(1)
        while !partition.isEnded && !Task.isCancelled {
            do throws(KafkaError) {
                return try await body()
            } catch {
                logger.warning("\(partition.topicPartition): \(problem) (\(error))")
            }
            let retry = ContinuousClock.now + pause
            while .now < retry && !partition.isEnded && !Task.isCancelled { await partition.wakeup.wait(until: retry) }
            pause = min(pause * 2, .seconds(10))
        }
        return nil
    }

    /// Takes records while the buffer has room; each is prepared at once, so its recipient (its
    /// order key) is known and an invalid one goes straight to publishing.
    private func take(_ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        while state.scheduler.room > 0 {
            let records = partition.take(limit: min(state.scheduler.room, 64))
            if records.isEmpty { return }
            for record in records { receive(record, &state, group: &group, mailbox: mailbox) }
        }
    }

    private func receive(_ record: KafkaMessage, _ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        DispatchMetrics.consumed.increment()
        if state.skip.remove(record.offset) != nil || record.offset < state.committed?.offset ?? .min {
            // Done before a restart or rebalance (its outcome is on the results topic): not again.
            _ = state.scheduler.received(record.offset, key: nil, bytes: 0, needsSend: false)
            perform(state.scheduler.published(record.offset), &state, group: &group, mailbox: mailbox)
            return
        }
        if record.key == nil && !state.warnedNullKey {
            state.warnedNullKey = true
            logger.warning(
                "records without a key on \(partition.topicPartition): key them by openid, or one recipient's messages may land in several partitions and lose their order"
            )
        }
        var preparation = processor.prepare(record)
        if case .send(let send) = preparation, let sent = state.sentLog?.alreadySent.removeValue(forKey: record.offset),
            sent.id == send.event.id
        {
            // WeChat accepted it before a restart or rebalance; its outcome never got out.
            preparation = .finished(processor.alreadySent(send, msgid: sent.msgid))
        }
        var key: [UInt8]?
        if case .send(let send) = preparation {
            key = Array(send.event.to.utf8)
            state.sends[record.offset] = send
        }
        state.originals[record.offset] = record
        let received = state.scheduler.received(
            record.offset, key: key, bytes: record.value.count + (record.key?.count ?? 0), needsSend: key != nil)
        if !received.inOrder {
            logger.warning(
                "offsets of \(partition.topicPartition) went backwards at \(record.offset) (truncated or recreated topic); tracking starts over"
            )
        }
        perform(received.actions, &state, group: &group, mailbox: mailbox)
        if case .finished(let outcome) = preparation { publish(record.offset, outcome, state, group: &group, mailbox: mailbox) }
    }

    private func handle(_ report: Report, _ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        switch report {
        case .attempted(let offset, .finished(let outcome)):
            state.sends[offset] = nil
            // Counted before the recipient's next record gets its turn (in `attemptEnded`).
            if outcome.status == .sent, outcome.attempts > 0, let rule = processor.rules.throttle(for: outcome.type), let to = outcome.to {
                state.throttle.record(type: outcome.type ?? "", to: to, rule: rule, at: outcome.completedAt)
            }
            perform(state.scheduler.attemptEnded(offset), &state, group: &group, mailbox: mailbox)
            // Into the sent log first: its offset will be at least the next one.
            let logSent = outcome.status == .sent && outcome.msgid != nil && state.sentLog != nil
            if logSent { state.sentLog?.writing(offset) }
            publish(offset, outcome, state, logSent: logSent, group: &group, mailbox: mailbox)
        case .attempted(let offset, .retry(let send, let instant)):
            state.sends[offset] = send
            wait(offset, DispatchMetrics.retriesWaiting, limitOf: nil, &state)
            perform(state.scheduler.attemptEnded(offset, retryAt: instant), &state, group: &group, mailbox: mailbox)
        case .attempted(_, .cancelled), .published(_, .cancelled):
            break  // only after cancelAll: the record stays uncommitted and is redelivered
        case .published(let offset, .acknowledged):
            state.originals[offset] = nil
            perform(state.scheduler.published(offset), &state, group: &group, mailbox: mailbox)
            publisher.transactions?.offer(progress(&state), for: partition.topicPartition)
        case .sentLogged(let logOffset):
            state.sentLog?.written(at: logOffset)
        case .published(_, .fatal(let error)):
            health.fatal(error)
            state.stop = .fatal
        case .committed(let point, let succeeded):
            state.commitInFlight = false
            if succeeded { state.committed = point }
        }
    }

    private func perform(
        _ actions: [PartitionScheduler<ContinuousClock>.Action], _ state: inout State, group: inout DiscardingTaskGroup,
        mailbox: Mailbox<Report>
    ) {
        var actions = actions[...]
        while let action = actions.popFirst() {
            switch action {
            case .send(let offset):
                guard let send = state.sends[offset] else { continue }
                endWait(offset, &state)
                // Over its rule's per-recipient throttle: rejected, or waits slot-free like a backoff.
                switch throttleDecision(send, &state) {
                case .go:
                    break
                case .reject(let reason):
                    state.sends[offset] = nil
                    actions += state.scheduler.attemptEnded(offset)
                    publish(offset, processor.throttled(send, reason: reason), state, group: &group, mailbox: mailbox)
                    continue
                case .delay(let until):
                    wait(offset, DispatchMetrics.throttleWaiting, limitOf: nil, &state)
                    let wait = EventProcessor<ContinuousClock>.wait(until: until, expiresAt: send.event.expiresAt, from: Date())
                    actions += state.scheduler.attemptEnded(offset, retryAt: .now.advanced(by: wait))
                    continue
                }
                // A record over its account's rate or quota waits for it like a backoff: slot-free.
                if let until = limitWait(offset, send, &state) {
                    wait(offset, DispatchMetrics.limitWaiting, limitOf: send.event.app, &state)
                    actions += state.scheduler.attemptEnded(offset, retryAt: until)
                    continue
                }
                group.addTask {
                    DispatchMetrics.inFlight.increment()
                    defer { DispatchMetrics.inFlight.decrement() }
                    mailbox.post(.attempted(offset, await processor.attempt(send)))
                }
            case .pause:
                do { try consumer.pause([partition.topicPartition]) } catch {
                    logger.warning("pause \(partition.topicPartition): \(error)")
                }
            case .resume:
                do { try consumer.resume([partition.topicPartition]) } catch {
                    logger.warning("resume \(partition.topicPartition): \(error)")
                }
            }
        }
    }

    /// After an account's limits changed (a new share, an operator's quota reset), its records
    /// parked for its rate or quota ask again now; after a quota reset, also those backing off
    /// after 45009 (and any other backoff of the account: it just retries sooner).
    private func wakeAfterLimitChange(_ state: inout State) {
        guard let limits else { return }
        let (changes, resets) = (limits.limitChanges, limits.quotaResets)
        guard changes != state.limitChanges else { return }
        let changed = Set(changes.keys.filter { changes[$0] != state.limitChanges[$0] })
        let reset = Set(resets.keys.filter { resets[$0] != state.quotaResets[$0] })
        (state.limitChanges, state.quotaResets) = (changes, resets)
        let parked = state.waiting.filter { offset, wait in
            if let account = wait.limitOf {
                // Reserved since the change: that reservation stands.
                return changed.contains(account) && state.reserved[offset].map { $0 < changes[account] ?? 0 } ?? true
            }
            return state.sends[offset].map { reset.contains($0.event.app) } == true
        }.keys
        for offset in parked { state.reserved[offset] = nil }
        state.scheduler.endBackoffs(parked, at: .now)
    }

    private func wait(_ offset: Int64, _ meter: Meter, limitOf account: String?, _ state: inout State) {
        endWait(offset, &state)
        state.waiting[offset] = (meter, account)
        meter.increment()
        if let account { limits?.parked(account, priority: priority, 1) }
    }

    private func endWait(_ offset: Int64, _ state: inout State) {
        guard let (meter, account) = state.waiting.removeValue(forKey: offset) else { return }
        meter.decrement()
        if let account { limits?.parked(account, priority: priority, -1) }
    }

    /// What the rule's per-recipient throttle says of sending this record now.
    private func throttleDecision(_ send: EventProcessor<ContinuousClock>.PendingSend, _ state: inout State) -> RecipientThrottle.Decision {
        guard let rule = processor.rules.throttle(for: send.event.type) else { return .go }
        return state.throttle.check(type: send.event.type ?? "", to: send.event.to, rule: rule, now: Date())
    }

    /// When the record may send, if its account's limits say not now (nil: now).
    private func limitWait(
        _ offset: Int64, _ send: EventProcessor<ContinuousClock>.PendingSend, _ state: inout State
    ) -> ContinuousClock.Instant? {
        guard let limits else { return nil }
        let held = state.reserved.removeValue(forKey: offset)
        let (decision, epoch) = limits.reserve(account: send.event.app, priority: priority, holding: held)
        switch decision {
        case .go:
            return nil
        case .wait(let until, reserved: true):
            state.reserved[offset] = epoch
            return until
        case .wait(let until, reserved: false):
            // The daily quota: wait for the reset, or until the event expires (it then ends `expired`).
            let now = ContinuousClock.now
            let reset = Date().addingTimeInterval(now.duration(to: until).seconds)
            return now.advanced(by: EventProcessor<ContinuousClock>.wait(until: reset, expiresAt: send.event.expiresAt, from: Date()))
        }
    }

    /// The outcome (and DLQ copy) out, after the send went into the sent log when `logSent`.
    private func publish(
        _ offset: Int64, _ outcome: Outcome, _ state: State, logSent: Bool = false, group: inout DiscardingTaskGroup,
        mailbox: Mailbox<Report>
    ) {
        guard let original = state.originals[offset] else { return }
        let logPartition = logSent ? state.sentLog?.partition : nil
        group.addTask {
            if let logPartition, let sentLog = publisher.sentLog, let msgid = outcome.msgid {
                let entry = SentLog.Entry(id: outcome.id, msgid: msgid, to: outcome.to, type: outcome.type)
                guard
                    let logged = await sentLog.write(
                        entry, source: partition.topicPartition, offset: offset, to: logPartition, logger: logger)
                else {
                    return mailbox.post(.published(offset, sentLog.producer.fatalError.map { .fatal($0) } ?? .cancelled))
                }
                mailbox.post(.sentLogged(at: logged))
            }
            let result = await publisher.publish(outcome, original: original, logger: logger)
            if result == .acknowledged { stats.record(outcome) } else { stats.recordPublishFailure() }
            // One line per outcome at debug; per problem (failed, or copied to the DLQ) at warning.
            let level: Logger.Level = outcome.status == .failed || outcome.needsDeadLetter ? .warning : .debug
            if result == .acknowledged, logger.logLevel <= level {
                var metadata: Logger.Metadata = [
                    "id": "\(LogText.id(outcome.id))", "status": "\(outcome.status.rawValue)", "attempts": "\(outcome.attempts)",
                ]
                if let errcode = outcome.errcode { metadata["errcode"] = "\(errcode)" }
                if let reason = outcome.reason { metadata["reason"] = "\(Outcome.cap(reason, 200))" }
                if let trace = outcome.trace { metadata[trace.name] = "\(trace.value)" }
                logger.log(level: level, "outcome \(outcome.status.rawValue)", metadata: metadata)
            }
            mailbox.post(.published(offset, result))
        }
    }
}
