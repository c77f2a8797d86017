import Kafka
import Logging
import Waiting

/// The committer of `OutcomeTransactions`: one transaction per commit interval (or when a revoked
/// partition asks), retried through broker outages, aborted and redone when a publish failed.
extension OutcomeTransactions {
    /// Initialises the transactional producer (aborting what a previous run of this instance left
    /// open) and then commits every interval, or when asked, until cancelled or fatal.
    func run(health: DispatcherHealth) async {
        do throws(KafkaError) {
            try await producer.initTransactions()
            try begin()
        } catch {
            health.fatal(error)
            return stop()
        }
        openGate()
        var next = ContinuousClock.now + interval
        while !Task.isCancelled && health.fatalError == nil {
            let due = ContinuousClock.now >= next
            let (requested, needsAbort, uncommitted) = state.withLock { ($0.commitRequests.count > 0, $0.needsAbort, $0.uncommitted) }
            if due || requested || needsAbort {
                next = .now + interval
                if needsAbort || uncommitted || requested {
                    if let fatal = await cycle() {
                        health.fatal(fatal)
                        break
                    }
                }
            }
            await wakeup.wait(until: next)
        }
        stop()
    }

    /// One commit (or abort and redo) with the gate closed.
    fileprivate func cycle() async -> KafkaError? {
        state.withLock { $0.gateOpen = false }
        while state.withLock({ $0.outstanding > 0 }) && !Task.isCancelled { await wakeup.wait(until: .now + .seconds(1)) }
        let (needsAbort, points) = state.withLock { ($0.needsAbort, $0.points) }
        var committed = false
        if !needsAbort {
            do throws(KafkaError) {
                try await commitOpen(with: points)
                committed = true
            } catch {
                if error.isFatal { return error }
                logger.warning("transaction commit failed (\(error)); aborting and producing its outcomes again")
            }
        }
        if !committed {
            switch await abortAndRedo() {
            case .failure(let fatal): return fatal
            case .success(let redone): committed = redone
            }
        }
        DispatchMetrics.commit(succeeded: committed)
        if committed {
            state.withLock {
                $0.delivered = []
                $0.uncommitted = false
            }
        }
        guard committed || !Task.isCancelled else { return nil }  // stopping: `stop` answers the requests
        do throws(KafkaError) { try begin() } catch { return error }
        let requests = state.withLock { state in
            defer { state.commitRequests = [] }
            return state.commitRequests
        }
        openGate()
        if committed { requests.forEach { $0.continuation.resume(returning: true) } } else { requeue(requests) }
        return nil
    }

    fileprivate func begin() throws(KafkaError) {
        try producer.beginTransaction()
        state.withLock { $0.sequence += 1 }
    }

    /// The open transaction's name, `<transactional.id>:<incarnation>:<sequence>`.
    var openTransaction: String { "\(transactionalID):\(incarnation):\(state.withLock { $0.sequence })" }

    /// Every record says which transaction carried it (header `wxpush-txn`), so a reader can tell
    /// committed copies from aborted ones where a broker fails to hide the latter.
    func tagged(_ records: [KafkaRecord]) -> [KafkaRecord] {
        let header = KafkaHeader(name: "wxpush-txn", string: openTransaction)
        return records.map { record in
            var record = record
            record.headers.append(header)
            return record
        }
    }

    /// Writes the partitions' progress and the transaction's own marker into the open
    /// transaction, adds the offsets, commits.
    fileprivate func commitOpen(with progress: [TopicPartition: CommitProgress]) async throws(KafkaError) {
        let points = progress.mapValues(\.point)
        do {
            let records = progress.map { self.progress.record($0.value.fullPoint, for: $0.key) } + [self.progress.marker(openTransaction)]
            if let failure = await OutcomePublisher.sendAll(records, with: producer).first {
                throw failure.error.code == .unknownTopicOrPartition || failure.error.code == .unknownTopic
                    ? KafkaError(
                        code: failure.error.code,
                        message:
                            "the progress topic \(self.progress.topic) does not exist: create it (1 partition, cleanup.policy=compact)",
                        isFatal: true)
                    : failure.error
            }
            if !points.isEmpty { try await producer.sendOffsetsToTransaction(points, consumer: consumer, timeout: Self.callTimeout) }
        }
        // A retriable failure (the brokers unreachable) leaves the transaction to be committed
        // again, not aborted: it may already be committing on the broker.
        _ = try await Backoff.publish.retrying(
            { () throws(KafkaError) in try await producer.commitTransaction(timeout: Self.callTimeout) },
            retryIf: { error, delay in
                guard error.isRetriable, !error.requiresAbort, !error.isFatal, !Task.isCancelled else { return false }
                logger.warning("transaction commit: \(error); trying again in \(delay)")
                return true
            },
            // Cancelled, it still tries again at once: the commit may be under way on the broker,
            // and `retryIf` ends the loop on the next failure.
            wait: { await ContinuousClock().pause($0) || true })
    }

    /// Aborts the open transaction and commits what was fine in it again, in a new one; retried
    /// with backoff (a broker outage) until it commits (true), the task is cancelled (false), or
    /// an error is fatal.
    fileprivate func abortAndRedo() async -> Result<Bool, KafkaError> {
        guard !Task.isCancelled else { return .success(false) }
        var open = true
        do throws(KafkaError) {
            let redone = try await Backoff.publish.retrying(
                { () throws(KafkaError) in
                    if open {
                        try await producer.abortTransaction(timeout: Self.callTimeout)
                        open = false
                    }
                    try begin()
                    open = true
                    let redo = state.withLock { state in
                        state.needsAbort = false
                        return state.delivered.flatMap(\.records)
                    }
                    if let failure = await OutcomePublisher.sendAll(tagged(redo), with: producer).first { throw failure.error }
                    try await commitOpen(with: state.withLock { $0.points })
                },
                retryIf: { error, delay in
                    guard !error.isFatal else { return false }
                    logger.warning("transaction: \(error); aborting and trying again in \(delay)")
                    return true
                },
                wait: { await ContinuousClock().pause($0) })
            return .success(redone != nil)
        } catch {
            return .failure(error)
        }
    }

    fileprivate func requeue(_ requests: [(id: Int, continuation: CheckedContinuation<Bool, Never>)]) {
        state.withLock { $0.commitRequests.insert(contentsOf: requests, at: 0) }
        wakeup.signal()
    }

    fileprivate func stop() {
        let (requests, waiters) = state.withLock { state in
            state.stopped = true
            state.gateOpen = true  // publishes then fail fast instead of waiting for a gate that never opens
            defer {
                state.commitRequests = []
                state.gateWaiters = []
            }
            return (state.commitRequests, state.gateWaiters)
        }
        requests.forEach { $0.continuation.resume(returning: false) }
        waiters.forEach { $0.continuation.resume() }
    }
}
