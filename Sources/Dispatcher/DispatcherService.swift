import Kafka
import Logging
import ServiceLifecycle

/// The dispatcher as a service: a group consumer whose every assigned partition runs a
/// `PartitionWorker`. Graceful shutdown revokes every partition through its worker (drain,
/// publish, commit), leaves the group, then flushes the outcome producer.
public struct DispatcherService: Service {
    let consumer: KafkaConsumer
    let publisher: OutcomePublisher
    let processor: EventProcessor
    let settings: DispatcherSettings
    public let stats: DispatchStats
    let logger: Logger

    public init(
        consumer: KafkaConsumer, publisher: OutcomePublisher, processor: EventProcessor,
        settings: DispatcherSettings, stats: DispatchStats = DispatchStats(), logger: Logger
    ) {
        self.consumer = consumer
        self.publisher = publisher
        self.processor = processor
        self.settings = settings
        self.stats = stats
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await consumer.run { partition in
                await PartitionWorker(
                    partition: partition, consumer: consumer, processor: processor, publisher: publisher,
                    settings: settings, stats: stats, logger: logger
                ).run()
            }
        } onGracefulShutdown: {
            consumer.triggerGracefulShutdown()
        }
        try await publisher.producer.flush()
        logger.info("dispatcher stopped")
    }
}
