import Kafka
import Logging
import Synchronization
import Waiting

/// Exactly-once outcomes: outcome records, DLQ copies and the input offsets (with their done-above
/// metadata) are committed together in Kafka transactions, one every commit interval, so a
/// `read_committed` reader sees exactly one outcome per request across crashes and rebalances.
///
/// The invariant: a transaction commits the offsets of every record whose outcome it carries. So
/// a commit first closes the gate (new publishes wait for the next transaction), waits until every
/// publish already in it has been delivered *and* its partition worker has offered its new commit
/// point, then sends those offsets and commits. A publish that fails makes the transaction abort;
/// the outcomes that were fine in it are produced again into the next one (their offsets are still
/// offered), and the failed publish is retried whole by its caller.
public final class OutcomeTransactions: Sendable {
    private struct Delivered: Sendable {
        let partition: TopicPartition
        let records: [KafkaRecord]
    }

    private struct State {
        var gateOpen = false
        var gateWaiters: [(id: Int, continuation: CheckedContinuation<Void, Never>)] = []
        /// Publishes sending now, or delivered but not yet offered by their worker.
        var outstanding = 0
        var needsAbort = false
        /// What the open transaction holds, kept to produce again after an abort.
        var delivered: [Delivered] = []
        var points: [TopicPartition: CommitProgress] = [:]
        var uncommitted = false
        var commitRequests: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextRequest = 0
        var stopped = false
        /// Counts the transactions begun; with the transactional id it names the open one.
        var sequence = 0
    }

    let producer: KafkaProducer
    let consumer: KafkaConsumer
    /// The producer's `transactional.id`.
    let transactionalID: String
    /// How long one transactional call may block. librdkafka's calls cannot be cancelled, so this
    /// bounds how long a shutdown waits for them when the brokers are gone; the loops around them
    /// retry.
    static let callTimeout: Duration = .seconds(2)
    /// Tells this run's transactions from an earlier run's with the same transactional id.
    private let incarnation = String(UInt32.random(in: .min ... .max), radix: 36)
    let progress: ProgressLog
    let reader: KafkaPartitionReader
    let interval: Duration
    let logger: Logger
    private let state = Mutex(State())
    private let wakeup = Wakeup()

    public init(
        producer: KafkaProducer, consumer: KafkaConsumer, transactionalID: String, progress: ProgressLog, reader: KafkaPartitionReader,
        interval: Duration, logger: Logger
    ) {
        self.producer = producer
        self.consumer = consumer
        self.transactionalID = transactionalID
        self.progress = progress
        self.reader = reader
        self.interval = interval
        self.logger = logger
    }

    /// Where the last committed transaction left `partition`, from the progress log.
    func committedPoint(of partition: TopicPartition) async throws(KafkaError) -> CommitPoint? {
        try await progress.latest(for: partition, reader: reader)
    }

    /// Produces `records` (one request's outcome and DLQ copy) into the open transaction and waits
    /// for their delivery; failures are returned and make the transaction abort. On success the
    /// caller's worker must `offer` its commit point once.
    func produce(_ records: [KafkaRecord], for partition: TopicPartition) async -> [(record: KafkaRecord, error: KafkaError)] {
        guard await passGate() else { return records.map { ($0, KafkaError.cancelled) } }
        let failures = await OutcomePublisher.sendAll(tagged(records), with: producer)
        let wake = state.withLock { state in
            if failures.isEmpty {
                state.delivered.append(Delivered(partition: partition, records: records))
                state.uncommitted = true
                return false
            }
            state.outstanding -= 1
            state.needsAbort = true
            return true
        }
        if wake { wakeup.signal() }
        return failures
    }

    /// A worker processed one successful `produce`: `point` is its partition's commit point now.
    func offer(_ point: CommitProgress?, for partition: TopicPartition) {
        let wake = state.withLock { state in
            state.outstanding -= 1
            if let point { state.points[partition] = point }
            return !state.gateOpen && state.outstanding == 0
        }
        if wake { wakeup.signal() }
    }

    /// Commits the open transaction now (a revoked partition's last records); true once committed,
    /// false when it could not be within `timeout` (or the committer stopped).
    func commitNow(timeout: Duration) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextRequest += 1 }
            return state.nextRequest
        }
        let deadline = Task {
            try? await Task.sleep(for: timeout)
            self.resolve(request: id, with: false)
        }
        defer { deadline.cancel() }
        return await withCheckedContinuation { continuation in
            let stopped = state.withLock { state in
                if !state.stopped { state.commitRequests.append((id, continuation)) }
                return state.stopped
            }
            if stopped { continuation.resume(returning: false) } else { wakeup.signal() }
        }
    }

    private func resolve(request id: Int, with result: Bool) {
        let request = state.withLock { state in
            state.commitRequests.firstIndex { $0.id == id }.map { state.commitRequests.remove(at: $0) }
        }
        request?.continuation.resume(returning: result)
    }

    /// A partition gone (revoked after its last commit, or lost): its offsets leave the transactions.
    /// A lost partition also aborts the open one: its outcomes must not be committed without their offsets.
    func forget(_ partition: TopicPartition, lost: Bool) {
        state.withLock { state in
            state.points[partition] = nil
            if lost {
                state.delivered.removeAll { $0.partition == partition }
                state.needsAbort = true
            }
        }
        wakeup.signal()
    }

    /// Waits until the gate is open and counts the caller as outstanding; false when cancelled first.
    private func passGate() async -> Bool {
        while !Task.isCancelled {
            let passed = state.withLock { state in
                if state.gateOpen { state.outstanding += 1 }
                return state.gateOpen
            }
            if passed { return true }
            let id = state.withLock { state in
                defer { state.nextRequest += 1 }
                return state.nextRequest
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let open = state.withLock { state in
                        if !state.gateOpen && !Task.isCancelled { state.gateWaiters.append((id, continuation)) }
                        return state.gateOpen || Task.isCancelled
                    }
                    if open { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state in
                    state.gateWaiters.firstIndex { $0.id == id }.map { state.gateWaiters.remove(at: $0) }
                }
                waiter?.continuation.resume()
            }
        }
        return false
    }

    private func openGate() {
        let waiters = state.withLock { state in
            state.gateOpen = true
            defer { state.gateWaiters = [] }
            return state.gateWaiters
        }
        waiters.forEach { $0.continuation.resume() }
    }
}

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
    private func cycle() async -> KafkaError? {
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

    private func begin() throws(KafkaError) {
        try producer.beginTransaction()
        state.withLock { $0.sequence += 1 }
    }

    /// The open transaction's name, `<transactional.id>:<incarnation>:<sequence>`.
    private var openTransaction: String { "\(transactionalID):\(incarnation):\(state.withLock { $0.sequence })" }

    /// Every record says which transaction carried it (header `wxpush-txn`), so a reader can tell
    /// committed copies from aborted ones where a broker fails to hide the latter.
    private func tagged(_ records: [KafkaRecord]) -> [KafkaRecord] {
        let header = KafkaHeader(name: "wxpush-txn", string: openTransaction)
        return records.map { record in
            var record = record
            record.headers.append(header)
            return record
        }
    }

    /// Writes the partitions' progress and the transaction's own marker into the open
    /// transaction, adds the offsets, commits.
    private func commitOpen(with progress: [TopicPartition: CommitProgress]) async throws(KafkaError) {
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
        var backoff = PublishBackoff().initial
        while true {
            do throws(KafkaError) {
                return try await producer.commitTransaction(timeout: Self.callTimeout)
            } catch {
                guard error.isRetriable, !error.requiresAbort, !error.isFatal, !Task.isCancelled else { throw error }
                logger.warning("transaction commit: \(error); trying again in \(backoff)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, PublishBackoff().maximum)
        }
    }

    /// Aborts the open transaction and commits what was fine in it again, in a new one; retried
    /// with backoff (a broker outage) until it commits (true), the task is cancelled (false), or
    /// an error is fatal.
    private func abortAndRedo() async -> Result<Bool, KafkaError> {
        var backoff = PublishBackoff().initial
        var open = true
        while !Task.isCancelled {
            do throws(KafkaError) {
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
                return .success(true)
            } catch {
                if error.isFatal { return .failure(error) }
                logger.warning("transaction: \(error); aborting and trying again in \(backoff)")
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, PublishBackoff().maximum)
        }
        return .success(false)
    }

    private func requeue(_ requests: [(id: Int, continuation: CheckedContinuation<Bool, Never>)]) {
        state.withLock { $0.commitRequests.insert(contentsOf: requests, at: 0) }
        wakeup.signal()
    }

    private func stop() {
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
