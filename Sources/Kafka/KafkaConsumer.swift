import Dispatch
import Logging
import Synchronization
import Waiting

/// A group consumer whose assigned partitions each become a `KafkaPartition` handled in its own task.
///
/// Offsets move only when the application says so: `storeOffset` marks a record's successor for the
/// periodic auto-commit; `commit` commits now. Nothing is committed that was not stored or given.
public final class KafkaConsumer: Sendable {
    let client: RDKafkaClient
    private let topics: [String]
    private let logger: Logger
    private let shutdownRequested = Atomic<Bool>(false)
    /// Wakes the event loop: consumer-queue events, shutdown, partition handlers returning.
    private let wakeup = Wakeup()
    /// When a commit last came back REBALANCE_IN_PROGRESS or ILLEGAL_GENERATION (nanoseconds of
    /// `ContinuousClock` since `created`), 0 for never.
    private let rebalanceSeenAt = Atomic<Int64>(0)
    private let created = ContinuousClock.now
    /// Set by an assignment the group hands this member (empty or not); cleared when the group
    /// takes the assignment away as lost (session timeout) until the next one.
    private let joined = Atomic<Bool>(false)
    private let assignments = Atomic<Int>(0)
    private let revocations = Atomic<Int>(0)
    private let losses = Atomic<Int>(0)

    /// Rebalance events since start: assignments, revocations, and revocations as lost.
    public var rebalanceCounts: (assigned: Int, revoked: Int, lost: Int) {
        (assignments.load(ordering: .relaxed), revocations.load(ordering: .relaxed), losses.load(ordering: .relaxed))
    }

    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String],
        logger: Logger = Logger(label: "wxpush.kafka.consumer")
    ) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .consumer, properties: configuration.consumerProperties(groupID: groupID), logger: logger,
            configure: RDKafkaClient.enableConsumerEvents
        )
        self.topics = topics
        self.logger = logger
    }

    /// Joins the group and runs until `triggerGracefulShutdown` (or cancellation) and the group is left.
    ///
    /// `onPartition` runs in a child task per assigned partition. On revoke, that partition ends; it is
    /// handed back to the group only after `onPartition` returns, so the handler can finish in-flight
    /// work and commit while it still owns the partition. On shutdown every partition ends first and
    /// the consumer stays a group member (heartbeats go on) until every handler has returned; only
    /// then does it leave the group, waiting at most `closeTimeout` for the brokers.
    public func run(
        closeTimeout: Duration = .seconds(10), _ onPartition: @escaping @Sendable (KafkaPartition) async -> Void
    ) async throws(KafkaError) {
        try client.subscribe(topics)
        let queue = client.consumerQueue
        client.enableWakeup(of: queue, wakeup)
        defer {
            client.disableWakeup(of: queue)
            client.releaseQueue(queue)
        }
        let result: Result<Void, KafkaError> = await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                var leases = PartitionLeases(client: client, wakeup: wakeup, logger: logger)
                let outcome = await eventLoop(queue: queue, leases: &leases, closeTimeout: closeTimeout) { lease in
                    group.addTask {
                        await onPartition(KafkaPartition(lease: lease))
                        lease.markHandlerReturned()
                    }
                }
                await leases.endAndWaitAll()
                return outcome
            }
        } onCancel: {
            triggerGracefulShutdown()
        }
        try result.get()
    }

    /// Shutdown has begun: partitions that end now end for good (not for a rebalance).
    public var isShuttingDown: Bool { shutdownRequested.load(ordering: .acquiring) }

    /// Starts leaving the group: every partition ends through its handler, then `run` returns.
    public func triggerGracefulShutdown() {
        shutdownRequested.store(true, ordering: .releasing)
        wakeup.signal()
    }

    /// Serves rebalances and errors as they arrive (a queue callback wakes it; nothing is polled on a
    /// timer), and walks the shutdown steps: end partitions, wait for handlers, close, wait for closed.
    private func eventLoop(
        queue: OpaquePointer, leases: inout PartitionLeases, closeTimeout: Duration, start: (PartitionLease) -> Void
    ) async -> Result<Void, KafkaError> {
        enum Phase { case running, ending, closing(deadline: ContinuousClock.Instant) }
        var phase = Phase.running
        while true {
            if case .running = phase, shutdownRequested.load(ordering: .acquiring) {
                phase = .ending
                leases.endAll()
            }
            if case .ending = phase, leases.allHandlersReturned {
                phase = .closing(deadline: .now + closeTimeout)
                do throws(KafkaError) { try client.beginClose(on: queue) } catch { return .failure(error) }
            }
            if case .closing(let deadline) = phase {
                if client.isConsumerClosed { return .success(()) }
                if ContinuousClock.now >= deadline {
                    logger.warning("the group was not left within \(closeTimeout); closing anyway")
                    return .success(())
                }
            }
            while let event = client.pollConsumerEvent(from: queue) {
                switch event {
                case .assign(let partitions)?:
                    joined.store(true, ordering: .releasing)
                    assignments.add(1, ordering: .relaxed)
                    rebalanceSeenAt.store(0, ordering: .relaxed)
                    let started = await leases.assign(partitions)
                    // Assigned while ending: the handlers start on ended partitions and return at once.
                    if case .running = phase {} else { started.forEach { $0.end(lost: false) } }
                    started.forEach(start)
                case .revoke(let partitions, let lost)?:
                    rebalanceSeenAt.store(0, ordering: .relaxed)
                    if lost { losses.add(1, ordering: .relaxed) } else { revocations.add(1, ordering: .relaxed) }
                    if lost { joined.store(false, ordering: .releasing) }
                    await leases.revoke(partitions, lost: lost)
                case .error(let error)?:
                    logger.warning("consumer error: \(error)")
                    if error.isFatal { return .failure(error) }
                case nil:
                    continue
                }
            }
            if case .closing(let deadline) = phase {
                // librdkafka does not always enqueue an event when it finishes closing: look again soon.
                await wakeup.waitIgnoringCancellation(until: min(deadline, .now + .milliseconds(20)))
            } else {
                await wakeup.waitIgnoringCancellation()
            }
        }
    }

    /// Marks `nextOffset` (the record's offset + 1) for commit: the auto-commit or `commitStoredOffsets` writes it.
    public func storeOffset(_ nextOffset: Int64, for partition: TopicPartition) throws(KafkaError) {
        try client.storeOffsets([partition: nextOffset])
    }

    /// Commits these offsets (each the next offset to read) and waits for the broker's answer,
    /// at most `timeout`.
    public func commit(_ offsets: [TopicPartition: Int64], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        try await commit(offsets.mapValues { CommitPoint(offset: $0) }, timeout: timeout)
    }

    /// Commits these positions with their metadata and waits for the broker's answer, at most `timeout`.
    public func commit(_ points: [TopicPartition: CommitPoint], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        do throws(KafkaError) {
            try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
                try client.commit(points, timeoutMilliseconds: ms)
            }
        } catch {
            if error.code == .rebalanceInProgress || error.code == .illegalGeneration {
                rebalanceSeenAt.store(max(1, (ContinuousClock.now - created).nanoseconds), ordering: .relaxed)
            }
            throw error
        }
    }

    /// A commit was refused for a rebalance, and no assign or revoke has ended that rebalance yet
    /// (at most `window` ago). Periodic commits should wait: one sent with the old generation and
    /// answered after the new one began makes librdkafka (2.0) drop the whole assignment as lost.
    /// Commits on revoke are unaffected (they carry the new generation).
    public func mayBeRebalancing(window: Duration = .seconds(30)) -> Bool {
        let seen = rebalanceSeenAt.load(ordering: .relaxed)
        return seen > 0 && (ContinuousClock.now - created).nanoseconds - seen < window.nanoseconds
    }

    /// Commits every stored offset now, waiting at most `timeout`.
    public func commitStoredOffsets(timeout: Duration = .seconds(10)) async throws(KafkaError) {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in try client.commit(nil, timeoutMilliseconds: ms) }
    }

    /// The group's committed offsets; nil where the group has committed none.
    public func committedOffsets(
        for partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Int64?] {
        try await committedPoints(for: partitions, timeout: timeout).mapValues { $0?.offset }
    }

    /// The group's committed positions with their metadata; nil where the group has committed none.
    public func committedPoints(
        for partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: CommitPoint?] {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.committed(partitions, timeoutMilliseconds: ms)
        }
    }

    public func watermarks(for partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Watermarks {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.watermarks(partition, timeoutMilliseconds: ms)
        }
    }

    /// Records written but not yet committed by this group.
    public func lag(for partition: TopicPartition) async throws(KafkaError) -> Int64 {
        let high = try await watermarks(for: partition).high
        let committed = try await committedOffsets(for: [partition])[partition] ?? nil
        return high - (committed ?? 0)
    }

    public func assignment() throws(KafkaError) -> [TopicPartition] { try client.assignment() }

    /// A consumer that reads every partition of `topic` from the oldest record kept, alone in a
    /// group of its own (`group`), committing nothing: for small bookkeeping topics every instance
    /// reads whole. Range assignment: a group of one needs no cooperative rebalancing, whose state
    /// librdkafka 2.0.2 asserts on when a consumer is destroyed before its first assignment (#4312).
    public static func tailing(
        _ topic: String, group: String, configuration: KafkaConfiguration, logger: Logger
    ) throws(KafkaError) -> KafkaConsumer {
        var configuration = configuration
        configuration.properties["enable.auto.commit"] = "false"
        configuration.properties["auto.offset.reset"] = "earliest"
        configuration.properties["partition.assignment.strategy"] = "range"
        return try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
    }

    /// A member of the group now: it has an assignment (possibly empty) that was not lost, and it
    /// is not shutting down.
    public var isGroupMember: Bool { joined.load(ordering: .acquiring) && !isShuttingDown }

    /// Records not yet read, per assigned partition, from what the last fetches reported (no
    /// broker request; nil where not known yet). For metrics.
    public func cachedLag() -> [TopicPartition: Int64?] {
        client.cachedLag((try? client.assignment()) ?? [])
    }

    /// How many partitions `topic` has, from the brokers' metadata.
    public func partitionCount(of topic: String, timeout: Duration = .seconds(5)) async throws(KafkaError) -> Int {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.partitionCount(of: topic, timeoutMilliseconds: ms)
        }
    }

    /// Stops fetching a partition (its prefetched records stay queued) until `resume`.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) { try client.pause(partitions) }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) { try client.resume(partitions) }
}
