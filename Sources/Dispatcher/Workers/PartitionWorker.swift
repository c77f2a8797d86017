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
        /// One produce done for these offsets: a record's outcome (and DLQ copy), or a batch of
        /// deferred records' copies to their delay topics (in place of outcomes).
        case published([Int64], OutcomePublisher.Result)
        case committed(CommitPoint, succeeded: Bool)
        /// A send went into the sent log at this offset.
        case sentLogged(at: Int64)
        /// An account's limits changed (`SendLimits`): its parked records ask again.
        case limitsChanged(SendLimits.Change)
    }

    typealias Scheduler = PartitionScheduler<DispatchGate>
    /// Everything the loop keeps about the partition; its held records live in the scheduler.
    typealias State = PartitionLoop<DispatchGate>

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
        defer { health.ended(partition.topicPartition) }
        let mailbox = Mailbox<Report>(wakeup: partition.wakeup)
        let id = ObjectIdentifier(mailbox)
        limits?.subscribe(id) { mailbox.post(.limitsChanged($0)) }
        defer { limits?.subscribe(id, nil) }
        let start = await startingPoint()
        var gate = DispatchGate(rules: processor.rules, limits: limits, priority: priority, worker: id)
        var sentLog: SentLogState?
        gate.recentSends = RecentSends(window: Double(settings.dedupWindow.components.seconds))
        gate.answer = { [processor] send, recent in
            if let first = recent.first(send.event.id, now: Date()) {
                return processor.duplicate(send, msgid: first.msgid, sentAt: first.at)
            }
            return processor.suppressed(send)
        }
        if publisher.sentLog != nil {
            guard let found = await sentLogStart(committed: start.committed, throttle: &gate.throttle, recent: &gate.recentSends) else {
                return
            }
            sentLog = found
        }
        var state = State(
            scheduler: Scheduler(limits: settings.partitionLimits, gate: gate), committed: start.committed, skip: start.skip,
            sentLog: sentLog, commitInterval: publisher.transactions == nil ? settings.commitInterval : nil,
            drainTimeout: settings.drainTimeout, now: .now)
        await withDiscardingTaskGroup { group in
            while state.stop == nil {
                if partition.isEnded || Task.isCancelled {
                    state.ended(lost: partition.isLost, cancelled: Task.isCancelled, now: .now)
                }
                take(&state, group: &group, mailbox: mailbox)
                let reports = mailbox.takeAll()
                for report in reports { handle(report, &state, group: &group, mailbox: mailbox) }
                perform(state.scheduler.timersDue(at: .now), &state, group: &group, mailbox: mailbox)
                countWaiting(&state)
                let oneEnded = reports.contains { if case .attempted = $0 { true } else { false } }
                if let sending = state.sendsChanged(oneEnded: oneEnded) {
                    health.sends(of: partition.topicPartition, inFlight: sending, oneEnded: oneEnded)
                }
                if state.commitDue(now: .now) { commitInBackground(&state, group: &group, mailbox: mailbox) }
                state.checkDrained(now: .now)
                guard state.stop == nil else { break }
                await partition.wakeup.wait(until: state.nextDeadline)
            }
            if state.stop != .drained { group.cancelAll() }
        }
        settle(mailbox.takeAll(), &state)
        state.scheduler.drain()
        countWaiting(&state)
        await finish(state)
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

    /// `body`'s answer, asked again (`Backoff.brokers`, each failure logged with `problem`) while
    /// the brokers do not answer; nil if the partition ends first (it is then redelivered).
    func whileOwned<T>(_ problem: String, _ body: () async throws(KafkaError) -> T) async -> T? {
        guard !partition.isEnded && !Task.isCancelled else { return nil }
        return try? await Backoff.brokers.retrying(
            body,
            retryIf: { error, _ in
                logger.warning("\(partition.topicPartition): \(problem) (\(error))")
                return true
            },
            wait: { delay in
                let retry = ContinuousClock.now + delay
                while .now < retry && !partition.isEnded && !Task.isCancelled { await partition.wakeup.wait(until: retry) }
                return !partition.isEnded && !Task.isCancelled
            })
    }

    /// Takes records while the buffer has room; each is prepared at once, so its recipient (its
    /// order key) is known and an invalid one goes straight to publishing.
    private func take(_ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        while state.scheduler.room > 0 {
            let records = partition.take(limit: min(state.scheduler.room, 64))
            if records.isEmpty { return }
            // Deferred records leave together: one produce (one task) per batch taken.
            let copies = records.compactMap { receive($0, &state, group: &group, mailbox: mailbox) }
            guard !copies.isEmpty else { continue }
            group.addTask {
                let result = await publisher.forward(copies.map(\.copy), from: partition.topicPartition, logger: logger)
                if result == .acknowledged { DispatchMetrics.deferred.increment(by: copies.count) }
                mailbox.post(.published(copies.map(\.offset), result))
            }
        }
    }

    /// Returns the copy for a delay topic when the record is deferred past the shortest tier.
    private func receive(
        _ record: KafkaMessage, _ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>
    ) -> (offset: Int64, copy: KafkaRecord)? {
        DispatchMetrics.consumed.increment()
        if state.wasDone(record.offset) {
            // Done before a restart or rebalance (its outcome is on the results topic): not again.
            let received = state.scheduler.received(
                record.offset, item: HeldRecord(original: record), key: nil, bytes: 0, needsSend: false, now: .now)
            perform(received.actions + state.scheduler.published(record.offset, now: .now), &state, group: &group, mailbox: mailbox)
            return nil
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
        let bytes = record.value.count + (record.key?.count ?? 0)
        // A copy that might not fit a delay topic (its headers added) waits in memory instead.
        if case .send(let send) = preparation, let release = send.releaseAt,
            let tier = settings.delays.tier(forWait: .seconds(release.timeIntervalSinceNow)), bytes + 2_048 < publisher.maxRecordBytes
        {
            // Long waits leave the partition: its other recipients go on, and nothing is held.
            let copy = DeferredCopy.first(record, releaseAt: release, tier: tier, tiers: settings.delays, now: Date())
            let received = state.scheduler.received(
                record.offset, item: HeldRecord(original: record), key: nil, bytes: bytes, needsSend: false, now: .now)
            perform(received.actions, &state, group: &group, mailbox: mailbox)
            return (record.offset, copy)
        }
        var held = HeldRecord(original: record)
        if case .send(let send) = preparation { held.send = send }
        let received = state.scheduler.received(
            record.offset, item: held, key: held.send.map { Array($0.event.to.utf8) }, bytes: bytes,
            needsSend: held.send != nil, now: .now)
        if !received.inOrder {
            logger.warning(
                "offsets of \(partition.topicPartition) went backwards at \(record.offset) (truncated or recreated topic); tracking starts over"
            )
        }
        perform(received.actions, &state, group: &group, mailbox: mailbox)
        if case .finished(let outcome) = preparation { publish(record.offset, outcome, state, group: &group, mailbox: mailbox) }
        return nil
    }

    private func handle(_ report: Report, _ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        switch report {
        case .attempted(let offset, .finished(let outcome)):
            // Counted before the recipient's next record gets its turn (in `attemptEnded`).
            state.scheduler.gate.sent(outcome)
            perform(state.scheduler.attemptEnded(offset, now: .now), &state, group: &group, mailbox: mailbox)
            // Into the sent log first: its offset will be at least the next one.
            let logSent = outcome.status == .sent && outcome.attempts > 0 && outcome.msgid != nil && state.sentLog != nil
            if logSent { state.sentLog?.writing(offset) }
            publish(offset, outcome, state, logSent: logSent, group: &group, mailbox: mailbox)
        case .attempted(let offset, .retry(let send, let instant)):
            let item = state.scheduler.item(offset).map { HeldRecord(original: $0.original, send: send) }
            perform(state.scheduler.attemptEnded(offset, item: item, retryAt: instant, now: .now), &state, group: &group, mailbox: mailbox)
        case .attempted(_, .cancelled), .published(_, .cancelled):
            break  // only after cancelAll: the record stays uncommitted and is redelivered
        case .published(let offsets, .acknowledged):
            for offset in offsets { perform(state.scheduler.published(offset, now: .now), &state, group: &group, mailbox: mailbox) }
            // One offer per produce, whatever it carried.
            publisher.transactions?.offer(state.progress(), for: partition.topicPartition)
        case .sentLogged(let logOffset):
            state.sentLog?.written(at: logOffset)
        case .published(_, .fatal(let error)):
            health.fatal(error)
            state.failed()
        case .committed(let point, let succeeded):
            state.commitEnded(point, succeeded: succeeded)
        case .limitsChanged(let change):
            // Reserved since the change: that reservation stands. After an operator's quota reset,
            // the account's backoffs (a 45009 waits for the reset) end too.
            state.scheduler.wake(at: .now) { record, reason in
                switch reason {
                case .limit(let account): account == change.account && (record.reservation ?? -1) < change.epoch
                case .retry: change.quotaReset && record.send?.event.app == change.account
                case .throttle, .deferred: false
                }
            }
        }
    }

    private func perform(_ actions: [Scheduler.Action], _ state: inout State, group: inout DiscardingTaskGroup, mailbox: Mailbox<Report>) {
        for action in actions {
            switch action {
            case .send(let offset):
                guard let item = state.scheduler.item(offset), let send = item.send else { continue }
                // Answered at its turn, not on arrival: an earlier record of the id (the same
                // recipient, so the same turn order) may have been sent since, or the user left.
                if let answered = item.answered {
                    mailbox.post(.attempted(offset, .finished(answered)))
                    continue
                }
                group.addTask {
                    DispatchMetrics.inFlight.increment()
                    defer { DispatchMetrics.inFlight.decrement() }
                    mailbox.post(.attempted(offset, await processor.attempt(send)))
                }
            case .reject(let offset, let reason):
                guard let send = state.scheduler.item(offset)?.send else { continue }
                publish(offset, processor.throttled(send, reason: reason), state, group: &group, mailbox: mailbox)
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

    /// The parked records into the waiting gauges and, for those waiting on an account's limits,
    /// the instance's demand for that account (what it asks of the demand exchange).
    private func countWaiting(_ state: inout State) {
        for (reason, delta) in state.waitingChanges() {
            switch reason {
            case .retry: DispatchMetrics.retriesWaiting.add(delta)
            case .throttle: DispatchMetrics.throttleWaiting.add(delta)
            case .deferred: DispatchMetrics.deferredWaiting.add(delta)
            case .limit(let account):
                DispatchMetrics.limitWaiting.add(delta)
                limits?.parked(account, priority: priority, delta)
            }
        }
    }

    /// The outcome (and DLQ copy) out, after the send went into the sent log when `logSent`.
    private func publish(
        _ offset: Int64, _ outcome: Outcome, _ state: State, logSent: Bool = false, group: inout DiscardingTaskGroup,
        mailbox: Mailbox<Report>
    ) {
        guard let original = state.scheduler.item(offset)?.original else { return }
        let logPartition = logSent ? state.sentLog?.partition : nil
        group.addTask {
            if let logPartition, let sentLog = publisher.sentLog, let msgid = outcome.msgid {
                let entry = SentLog.Entry(id: outcome.id, msgid: msgid, to: outcome.to, type: outcome.type)
                guard
                    let logged = await sentLog.write(
                        entry, source: partition.topicPartition, offset: offset, to: logPartition, logger: logger)
                else {
                    return mailbox.post(.published([offset], sentLog.producer.fatalError.map { .fatal($0) } ?? .cancelled))
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
            mailbox.post(.published([offset], result))
        }
    }
}
