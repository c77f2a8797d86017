import Logging
import Synchronization
import Waiting

/// One owned partition: its queue, whether it was lost, and the signal that its handler returned.
final class PartitionLease: Sendable {
    let queue: RDKafkaPartitionQueue
    private let ended = Atomic<Bool>(false)
    private let lost = Atomic<Bool>(false)
    private let returned = Atomic<Bool>(false)
    /// `messages` was handed out: its sequence is the partition's only reader.
    private let sequenceClaimed = Atomic<Bool>(false)
    /// The consumer's event loop, woken when the handler returns.
    private let owner: Wakeup
    var topicPartition: TopicPartition { queue.topicPartition }

    init(queue: RDKafkaPartitionQueue, owner: Wakeup) {
        self.queue = queue
        self.owner = owner
    }

    var isEnded: Bool { ended.load(ordering: .acquiring) }
    var isLost: Bool { lost.load(ordering: .acquiring) }
    var handlerReturned: Bool { returned.load(ordering: .acquiring) }

    /// Claims the records for one `messages` sequence; false if one was handed out already.
    func claimSequence() -> Bool { !sequenceClaimed.exchange(true, ordering: .acquiringAndReleasing) }
    var isSequenceClaimed: Bool { sequenceClaimed.load(ordering: .acquiring) }

    /// Ends the partition's records; the handler drains (or, when lost, cancels) and returns.
    func end(lost: Bool) {
        if lost { self.lost.store(true, ordering: .releasing) }
        ended.store(true, ordering: .releasing)
        queue.wakeup.signal()
    }

    func markHandlerReturned() {
        returned.store(true, ordering: .releasing)
        owner.signal()
    }
}

/// The partitions this consumer owns, and the assign and revoke protocol around their handlers.
struct PartitionLeases {
    let client: RDKafkaClient
    let logger: Logger
    /// The event loop's wake-up: handlers returning signal it.
    let wakeup: Wakeup
    private(set) var owned: [TopicPartition: PartitionLease] = [:]

    init(client: RDKafkaClient, wakeup: Wakeup, logger: Logger) {
        self.client = client
        self.wakeup = wakeup
        self.logger = logger
    }

    /// Detaches each partition's queue, then assigns; returns the leases whose handlers should start.
    mutating func assign(_ partitions: [TopicPartition]) async -> [PartitionLease] {
        let leases = partitions.map {
            PartitionLease(queue: RDKafkaPartitionQueue(client: client, topicPartition: $0), owner: wakeup)
        }
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

    /// Ends each revoked partition, waits for its handler to return, then gives it back. Waiting
    /// ignores cancellation: a partition is never released while its handler may still commit.
    mutating func revoke(_ partitions: [TopicPartition], lost: Bool) async {
        let leases = partitions.compactMap { owned[$0] }
        for lease in leases { lease.end(lost: lost) }
        while !leases.allSatisfy(\.handlerReturned) { await wakeup.waitIgnoringCancellation() }
        do throws(KafkaError) {
            try await client.blocking { [client] () throws(KafkaError) in try client.unassign(partitions) }
        } catch {
            logger.error("unassign \(partitions) failed: \(error)")
        }
        for partition in partitions { owned[partition] = nil }
        logger.info("revoked", metadata: ["partitions": "\(partitions.sorted())", "lost": "\(lost)"])
    }

    /// Ends every owned partition (shutdown); their handlers drain and commit while we are still a member.
    func endAll() {
        for lease in owned.values { lease.end(lost: false) }
    }

    var allHandlersReturned: Bool { owned.values.allSatisfy(\.handlerReturned) }

    /// At exit: ends what is still owned and waits for those handlers.
    mutating func endAndWaitAll() async {
        endAll()
        while !allHandlersReturned { await wakeup.waitIgnoringCancellation() }
        owned.removeAll()
    }
}
