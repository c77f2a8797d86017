import Kafka
import Logging
import ServiceLifecycle

/// Reads every partition of the recipients topic into `Suppressions`, from the oldest record
/// kept, as a consumer group of this instance alone, committing nothing: each start reads the
/// compacted topic again. Records that are not recipient statuses are skipped and counted.
public struct RecipientFeed: Service {
    let consumer: KafkaConsumer
    let suppressions: Suppressions

    public init(
        kafka: KafkaConfiguration, topic: String, group: String, instanceID: String, suppressions: Suppressions, logger: Logger
    ) throws(KafkaError) {
        consumer = try KafkaConsumer.tailing(topic, group: "\(group).recipients.\(instanceID)", configuration: kafka, logger: logger)
        self.suppressions = suppressions
    }

    /// Ends `run` (for callers outside a `ServiceGroup`).
    public func stop() { consumer.triggerGracefulShutdown() }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await consumer.run(closeTimeout: .seconds(1)) { [suppressions] partition in
                for await message in partition.messages {
                    if let record = RecipientRecord.decode(message.value) {
                        suppressions.apply(record)
                    } else {
                        DispatchMetrics.skipped(.recipients)
                    }
                }
            }
        } onGracefulShutdown: {
            consumer.triggerGracefulShutdown()
        }
    }
}
