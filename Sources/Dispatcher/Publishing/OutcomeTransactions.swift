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
/// offered), and the failed publish is retried whole by its caller. Each commit also writes the
/// partitions' progress and its own marker to the progress log (`ProgressLog`).
///
/// This file: the publishers' side (gate, produce, offer, commit requests). The committer's loop is
/// in `OutcomeTransactions+Committing.swift`.
public final class OutcomeTransactions: Sendable {
    struct Delivered: Sendable {
        let partition: TopicPartition
        let records: [KafkaRecord]
    }

    struct State {
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
    let incarnation = String(UInt32.random(in: .min ... .max), radix: 36)
    let progress: ProgressLog
    let reader: KafkaPartitionReader
    let interval: Duration
    let logger: Logger
    let state = Mutex(State())
    let wakeup = Wakeup()

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

    func openGate() {
        let waiters = state.withLock { state in
            state.gateOpen = true
            defer { state.gateWaiters = [] }
            return state.gateWaiters
        }
        waiters.forEach { $0.continuation.resume() }
    }
}
