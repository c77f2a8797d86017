import Logging

/// One owned partition: its queue and the signal that its handler has returned.
final class PartitionLease: Sendable {
    let queue: RDKafkaPartitionQueue
    let handlerReturned = Wakeup()
    var topicPartition: TopicPartition { queue.topicPartition }

    init(queue: RDKafkaPartitionQueue) { self.queue = queue }
}

/// The partitions this consumer owns, and the assign and revoke protocol around their handlers.
struct PartitionLeases {
    let client: RDKafkaClient
    let logger: Logger
    private var owned: [TopicPartition: PartitionLease] = [:]

    init(client: RDKafkaClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Detaches each partition's queue, then assigns; returns the leases whose handlers should start.
    mutating func assign(_ partitions: [TopicPartition]) async -> [PartitionLease] {
        let leases = partitions.map { PartitionLease(queue: RDKafkaPartitionQueue(client: client, topicPartition: $0)) }
        do throws(KafkaError) {
            try await client.blocking { [client] () throws(KafkaError) in try client.assign(partitions) }
        } catch {
            logger.error("assign \(partitions) failed: \(error)")
            return []
        }
        for lease in leases { owned[lease.topicPartition] = lease }
        logger.info("assigned", metadata: ["partitions": "\(partitions.sorted())"])
        return leases
    }

    /// Ends each revoked partition's messages, waits for its handler to return, then gives it back.
    mutating func revoke(_ partitions: [TopicPartition], lost: Bool) async {
        let leases = partitions.compactMap { owned[$0] }
        for lease in leases { lease.queue.wakeup.close() }
        for lease in leases { await lease.handlerReturned.wait() }
        do throws(KafkaError) {
            try await client.blocking { [client] () throws(KafkaError) in try client.unassign(partitions) }
        } catch {
            logger.error("unassign \(partitions) failed: \(error)")
        }
        for partition in partitions { owned[partition] = nil }
        logger.info("revoked", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
    }

    func wakeAll() {
        for lease in owned.values { lease.queue.wakeup.signal() }
    }

    /// At exit: ends what is still owned and waits for those handlers.
    mutating func endAll() async {
        for lease in owned.values { lease.queue.wakeup.close() }
        for lease in owned.values { await lease.handlerReturned.wait() }
        owned.removeAll()
    }
}
