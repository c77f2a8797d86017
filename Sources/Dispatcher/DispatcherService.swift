import Kafka
import Logging
import ServiceLifecycle

/// The dispatcher as a service: a group consumer whose every assigned partition runs a
/// `PartitionWorker`. Graceful shutdown ends every partition through its worker (drain, publish,
/// commit) while the consumer is still a group member, then leaves the group and flushes the
/// outcome producer. Cancellation (a second signal) cancels in-flight work at once.
public struct DispatcherService: Service {
    let consumer: KafkaConsumer
    let publisher: OutcomePublisher
    let processor: EventProcessor<ContinuousClock>
    let settings: DispatcherSettings
    public let stats: DispatchStats
    public let health: DispatcherHealth
    let limits: SendLimits?
    /// Moves deferred requests through the delay topics (nil: none configured).
    let relay: DelayRelay?
    let logger: Logger

    public init(
        consumer: KafkaConsumer, publisher: OutcomePublisher, processor: EventProcessor<ContinuousClock>,
        settings: DispatcherSettings, stats: DispatchStats = DispatchStats(), limits: SendLimits? = nil, relay: DelayRelay? = nil,
        logger: Logger
    ) {
        self.limits = limits
        self.consumer = consumer
        self.publisher = publisher
        self.processor = processor
        self.settings = settings
        self.stats = stats
        let health = DispatcherHealth(logger: logger) { [consumer] in consumer.triggerGracefulShutdown() }
        self.health = health
        // A relay that cannot go on stops the process like a failed outcome producer: a restart
        // (the orchestrator's) moves the deferred requests again.
        self.relay = relay.map { relay in
            var relay = relay
            relay.failed = { health.fatal($0) }
            return relay
        }
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { relaying in
                if let relay {
                    relaying.addTask {
                        do throws(KafkaError) { try await relay.run() } catch {
                            logger.error("the delay relay stopped: \(error); stopping, so a restart moves the deferred requests again")
                            health.fatal(error)
                        }
                    }
                }
                try await withThrowingDiscardingTaskGroup { group in
                    if let transactions = publisher.transactions {
                        group.addTask { await transactions.run(health: health) }
                    }
                    try await consumer.run(closeTimeout: .seconds(2)) { partition in
                        await PartitionWorker(
                            partition: partition, consumer: consumer, processor: processor, publisher: publisher,
                            settings: settings, stats: stats, health: health, limits: limits, logger: logger
                        ).run()
                    }
                    group.cancelAll()
                }
                // The relay forwards what is due and commits while still a member, then leaves.
                relay?.consumer.triggerGracefulShutdown()
            }
        } onGracefulShutdown: {
            consumer.triggerGracefulShutdown()
            relay?.consumer.triggerGracefulShutdown()
        }
        if let fatal = health.fatalError { throw DispatcherError.producerFailed(fatal) }
        // Outcomes are all acknowledged by now (or abandoned to redelivery): this is only a bound.
        if !Task.isCancelled { try? await publisher.producer.flush(timeout: .seconds(1)) }
        logger.info("dispatcher stopped")
    }
}

public enum DispatcherError: Error, CustomStringConvertible {
    case producerFailed(KafkaError)

    public var description: String {
        switch self {
        case .producerFailed(let error): "the outcome producer failed fatally: \(error); restart wxpush"
        }
    }
}
