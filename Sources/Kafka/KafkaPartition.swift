/// A partition assigned to this consumer, handed to the partition handler of `KafkaConsumer.run`.
///
/// `messages` ends when the partition is revoked (or the consumer shuts down): that is the signal to
/// stop taking new records, finish in-flight work and commit. The partition is released to the group
/// only after the handler returns.
public struct KafkaPartition: Sendable {
    public let topicPartition: TopicPartition
    public let messages: KafkaPartitionMessages
}

/// The records of one partition, in offset order, pulled on demand: a handler that does not pull
/// leaves them in librdkafka's bounded prefetch queue, which then stops fetching.
public struct KafkaPartitionMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let queue: RDKafkaPartitionQueue

    public func makeAsyncIterator() -> Iterator { Iterator(queue: queue) }

    public struct Iterator: AsyncIteratorProtocol {
        let queue: RDKafkaPartitionQueue
        private var buffer: [KafkaMessage] = []
        private var index = 0

        init(queue: RDKafkaPartitionQueue) { self.queue = queue }

        public mutating func next() async -> KafkaMessage? {
            while true {
                // Revocation ends the sequence at once: records not yet handed out go to the next owner.
                if queue.wakeup.isClosed || Task.isCancelled { return nil }
                if index < buffer.count {
                    defer { index += 1 }
                    return buffer[index]
                }
                queue.wakeup.reset()
                buffer = queue.take(limit: 256)
                index = 0
                if buffer.isEmpty { await queue.wakeup.wait() }
            }
        }
    }
}
