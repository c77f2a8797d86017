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
        var gateWaiters: [CheckedContinuation<Void, Never>] = []
        /// Publishes sending now, or delivered but not yet offered by their worker.
        var outstanding = 0
        var needsAbort = false
        /// What the open transaction holds, kept to produce again after an abort.
        var delivered: [Delivered] = []
        var points: [TopicPartition: CommitPoint] = [:]
        var uncommitted = false
        var commitRequests: [CheckedContinuation<Bool, Never>] = []
        var stopped = false
        /// Counts the transactions begun; with the transactional id it names the open one.
        var sequence = 0
    }

    let producer: KafkaProducer
    let consumer: KafkaConsumer
    /// The producer's `transactional.id`.
    let transactionalID: String
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
        await passGate()
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
    func offer(_ point: CommitPoint?, for partition: TopicPartition) {
        let wake = state.withLock { state in
            state.outstanding -= 1
            if let point { state.points[partition] = point }
            return !state.gateOpen && state.outstanding == 0
        }
        if wake { wakeup.signal() }
    }

    /// Commits the open transaction now (a revoked partition's last records); true once committed.
    func commitNow() async -> Bool {
        await withCheckedContinuation { continuation in
            let stopped = state.withLock { state in
                if !state.stopped { state.commitRequests.append(continuation) }
                return state.stopped
            }
            if stopped { continuation.resume(returning: false) } else { wakeup.signal() }
        }
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

    private func passGate() async {
        while true {
            let passed = state.withLock { state in
                if state.gateOpen { state.outstanding += 1 }
                return state.gateOpen
            }
            if passed { return }
            await withCheckedContinuation { continuation in
                let open = state.withLock { state in
                    if !state.gateOpen { state.gateWaiters.append(continuation) }
                    return state.gateOpen
                }
                if open { continuation.resume() }
            }
        }
    }

    private func openGate() {
        let waiters = state.withLock { state in
            state.gateOpen = true
            defer { state.gateWaiters = [] }
            return state.gateWaiters
        }
        waiters.forEach { $0.resume() }
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
                if error.isFatal || !error.requiresAbort && !error.isRetriable { return error }
                logger.warning("transaction commit failed (\(error)); aborting and producing its outcomes again")
            }
        }
        if committed {
            state.withLock {
                $0.delivered = []
                $0.uncommitted = false
            }
        } else if let fatal = await abortAndRedo() {
            return fatal
        }
        do throws(KafkaError) { try begin() } catch { return error }
        let requests = state.withLock { state in
            defer { state.commitRequests = [] }
            return state.commitRequests
        }
        openGate()
        if committed { requests.forEach { $0.resume(returning: true) } } else { requeue(requests) }
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
    private func commitOpen(with points: [TopicPartition: CommitPoint]) async throws(KafkaError) {
        do {
            let records = points.map { progress.record($0.value, for: $0.key) } + [progress.marker(openTransaction)]
            if let failure = await OutcomePublisher.sendAll(records, with: producer).first {
                throw failure.error.code == .unknownTopicOrPartition || failure.error.code == .unknownTopic
                    ? KafkaError(
                        code: failure.error.code,
                        message: "the progress topic \(progress.topic) does not exist: create it (1 partition, cleanup.policy=compact)",
                        isFatal: true)
                    : failure.error
            }
            if !points.isEmpty { try await producer.sendOffsetsToTransaction(points, consumer: consumer) }
        }
        try await producer.commitTransaction()
    }

    /// Aborts the open transaction and produces what was fine in it again, in a new one.
    private func abortAndRedo() async -> KafkaError? {
        do throws(KafkaError) { try await producer.abortTransaction() } catch {
            if error.isFatal { return error }
        }
        var backoff = PublishBackoff().initial
        while !Task.isCancelled {
            do throws(KafkaError) { try begin() } catch { return error }
            let redo = state.withLock { state in
                state.needsAbort = false
                return state.delivered.flatMap(\.records)
            }
            let failures = await OutcomePublisher.sendAll(tagged(redo), with: producer)
            if failures.isEmpty {
                // Commits it here; the caller begins the next one.
                do throws(KafkaError) {
                    try await commitOpen(with: state.withLock { $0.points })
                    state.withLock {
                        $0.delivered = []
                        $0.uncommitted = false
                    }
                    return nil
                } catch {
                    if error.isFatal { return error }
                }
            }
            logger.warning("producing an aborted transaction's outcomes again failed; retrying in \(backoff)")
            do throws(KafkaError) { try await producer.abortTransaction() } catch {
                if error.isFatal { return error }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, PublishBackoff().maximum)
        }
        return nil
    }

    private func requeue(_ requests: [CheckedContinuation<Bool, Never>]) {
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
        requests.forEach { $0.resume(returning: false) }
        waiters.forEach { $0.resume() }
    }
}
