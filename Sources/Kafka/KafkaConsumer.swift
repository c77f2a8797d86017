import Dispatch
import Logging
import Synchronization

/// A group consumer whose assigned partitions each become a `KafkaPartition` handled in its own task.
///
/// Offsets move only when the application says so: `storeOffset` marks a record's successor for the
/// periodic auto-commit; `commit` commits now. Nothing is committed that was not stored or given.
public final class KafkaConsumer: Sendable {
    private let client: RDKafkaClient
    private let topics: [String]
    private let logger: Logger
    private let shutdownRequested = Atomic<Bool>(false)

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
    /// `onPartition` runs in a child task per assigned partition. On revoke, that partition's `messages`
    /// end; the partition is handed back to the group only after `onPartition` returns, so the handler
    /// can finish in-flight work and commit while it still owns the partition.
    public func run(_ onPartition: @escaping @Sendable (KafkaPartition) async -> Void) async throws(KafkaError) {
        try client.subscribe(topics)
        let queue = client.consumerQueue
        defer { client.releaseQueue(queue) }
        let result: Result<Void, KafkaError> = await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                var leases = PartitionLeases(client: client, logger: logger)
                let outcome = await eventLoop(queue: queue, leases: &leases) { lease in
                    group.addTask {
                        await onPartition(KafkaPartition(topicPartition: lease.topicPartition, messages: .init(queue: lease.queue)))
                        lease.handlerReturned.close()
                    }
                }
                await leases.endAll()
                return outcome
            }
        } onCancel: {
            triggerGracefulShutdown()
        }
        try result.get()
    }

    /// Starts leaving the group: every partition is revoked through its handler, then `run` returns.
    public func triggerGracefulShutdown() {
        shutdownRequested.store(true, ordering: .releasing)
    }

    private func eventLoop(
        queue: OpaquePointer, leases: inout PartitionLeases, start: (PartitionLease) -> Void
    ) async -> Result<Void, KafkaError> {
        var closing = false
        var ticks = 0
        while true {
            if !closing && shutdownRequested.load(ordering: .acquiring) {
                closing = true
                do throws(KafkaError) { try client.beginClose(on: queue) } catch { return .failure(error) }
            }
            if closing && client.isConsumerClosed { return .success(()) }
            while let event = client.pollConsumerEvent(from: queue) {
                switch event {
                case .assign(let partitions)?:
                    await leases.assign(partitions).forEach(start)
                case .revoke(let partitions, let lost)?:
                    await leases.revoke(partitions, lost: lost)
                case .error(let error)?:
                    logger.warning("consumer error: \(error)")
                    if error.isFatal { return .failure(error) }
                case nil:
                    continue
                }
            }
            ticks += 1
            // A safety net: wake every partition reader now and then, should a queue callback be missed.
            if ticks % 20 == 0 { leases.wakeAll() }
            await sleepIgnoringCancellation(milliseconds: 50)
        }
    }

    /// Marks `nextOffset` (the record's offset + 1) for commit: the auto-commit or `commitStoredOffsets` writes it.
    public func storeOffset(_ nextOffset: Int64, for partition: TopicPartition) throws(KafkaError) {
        try client.storeOffsets([partition: nextOffset])
    }

    /// Commits these offsets (each the next offset to read) and waits for the broker's answer,
    /// at most `timeout`.
    public func commit(_ offsets: [TopicPartition: Int64], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        try await client.blocking { [client] () throws(KafkaError) in try client.commit(offsets, timeoutMilliseconds: milliseconds) }
    }

    /// Commits every stored offset now, waiting at most `timeout`.
    public func commitStoredOffsets(timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        try await client.blocking { [client] () throws(KafkaError) in try client.commit(nil, timeoutMilliseconds: milliseconds) }
    }

    /// The group's committed offsets; nil where the group has committed none.
    public func committedOffsets(
        for partitions: [TopicPartition], timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Int64?] {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await client.blocking { [client] () throws(KafkaError) in
            try client.committed(partitions, timeoutMilliseconds: milliseconds)
        }
    }

    public func watermarks(for partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Watermarks {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        return try await client.blocking { [client] () throws(KafkaError) in
            try client.watermarks(partition, timeoutMilliseconds: milliseconds)
        }
    }

    /// Records written but not yet committed by this group.
    public func lag(for partition: TopicPartition) async throws(KafkaError) -> Int64 {
        let high = try await watermarks(for: partition).high
        let committed = try await committedOffsets(for: [partition])[partition] ?? nil
        return high - (committed ?? 0)
    }

    public func assignment() throws(KafkaError) -> [TopicPartition] { try client.assignment() }

    /// Stops fetching a partition (its prefetched records stay queued) until `resume`.
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) { try client.pause(partitions) }

    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) { try client.resume(partitions) }
}

/// Sleeps without observing cancellation, so a cancelled consumer still paces its close loop.
func sleepIgnoringCancellation(milliseconds: Int) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(milliseconds)) { continuation.resume() }
    }
}
