import Kafka
import Logging
import ServiceLifecycle

/// Reads every partition of the msgids topic into a `MsgidIndex`, from the oldest record kept,
/// as a consumer group of its own (this instance alone), committing nothing: each start reads the
/// compacted topic again, and the index keeps the newest `capacity` entries.
public struct MsgidIndexFeed: Service {
    let consumer: KafkaConsumer
    let index: MsgidIndex
    let logger: Logger

    public init(
        kafka: KafkaConfiguration, topic: String, group: String, instanceID: String, index: MsgidIndex, logger: Logger
    )
        throws(KafkaError)
    {
        consumer = try KafkaConsumer.tailing(topic, group: "\(group).msgids.\(instanceID)", configuration: kafka, logger: logger)
        self.index = index
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await consumer.run(closeTimeout: .seconds(1)) { [index] partition in
                for await message in partition.messages {
                    if let (msgid, entry) = MsgidRecord.decode(message) {
                        index.insert(msgid: msgid, entry)
                    } else if let receipt = MsgidRecord.receiptKey(message), receipt.utf8.count <= MsgidRecord.maxReceiptKeyBytes {
                        index.receiptPublished(receipt)
                    } else {
                        DispatchMetrics.skipped(.msgids)  // written by something else: never trusted
                    }
                }
            }
        } onGracefulShutdown: {
            consumer.triggerGracefulShutdown()
        }
    }
}
