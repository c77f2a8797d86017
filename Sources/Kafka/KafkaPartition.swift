import Waiting

/// A partition assigned to this consumer, handed to the partition handler of `KafkaConsumer.run`.
///
/// The partition ends when it is revoked or the consumer shuts down: that is the signal to stop
/// taking new records, finish in-flight work and commit. It is released to the group only after the
/// handler returns. A *lost* partition (the session timed out; another member may own it already)
/// ends too, with `isLost` set: then cancel at once and commit nothing.
///
/// Two ways to read it, one per handler: `messages`, an `AsyncSequence`; or `take` + `wakeup`, for a
/// handler that waits on several things at once (records, its own child tasks, timers). The
/// sequence is handed out once and is then the only reader: two readers would each get some of
/// the records, so a second `messages`, or `take` beside it, is a programming error and traps.
public struct KafkaPartition: Sendable {
    let lease: PartitionLease

    public var topicPartition: TopicPartition { lease.topicPartition }

    /// Signalled when records arrive and when the partition ends; the handler may signal it too
    /// (its own child tasks finishing), so it waits on one thing.
    public var wakeup: Wakeup { lease.queue.wakeup }

    /// Revoked, lost or shutting down: take no more records.
    public var isEnded: Bool { lease.isEnded }

    /// Ended because the group considers this member gone: do not commit.
    public var isLost: Bool { lease.isLost }

    /// Up to `limit` records in offset order, without waiting; none once the partition ended.
    public func take(limit: Int) -> [KafkaMessage] {
        precondition(!lease.isSequenceClaimed, "\(topicPartition): take beside its messages sequence (one reader per partition)")
        return takeRecords(limit: limit)
    }

    fileprivate func takeRecords(limit: Int) -> [KafkaMessage] {
        guard !isEnded, limit > 0 else { return [] }
        return lease.queue.take(limit: limit)
    }

    /// The records in offset order, pulled on demand: a handler that does not pull leaves them in
    /// librdkafka's bounded prefetch queue, which then stops fetching. Once per partition.
    public var messages: KafkaPartitionMessages {
        precondition(lease.claimSequence(), "\(topicPartition): its messages were handed out already (one reader per partition)")
        return KafkaPartitionMessages(partition: self)
    }
}

public struct KafkaPartitionMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let partition: KafkaPartition

    public func makeAsyncIterator() -> Iterator { Iterator(partition: partition) }

    public struct Iterator: AsyncIteratorProtocol {
        let partition: KafkaPartition
        private var buffer: [KafkaMessage] = []
        private var index = 0

        init(partition: KafkaPartition) { self.partition = partition }

        public mutating func next() async -> KafkaMessage? {
            while true {
                // Revocation ends the sequence at once: records not yet handed out go to the next owner.
                if partition.isEnded || Task.isCancelled { return nil }
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                buffer = partition.takeRecords(limit: 256)
                index = 0
                if buffer.isEmpty { await partition.wakeup.wait() }
            }
        }
    }
}
