import ArgumentParser
import Dispatcher
import Foundation
import Kafka
import Logging
import ServiceLifecycle

/// `wxpush dev-kafka`: an embedded Kafka for local work, until SIGINT or SIGTERM.
struct DevKafkaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev-kafka",
        abstract: "Runs an embedded Kafka (librdkafka's mock cluster) and prints its bootstrap address as the first line."
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 1

    @Option(
        name: .customLong("topic"),
        help:
            "A topic to create, as NAME:PARTITIONS (repeatable). Default: the topics of `wxpush topics plan` for the default configuration."
    )
    var topics: [TopicSpec] = TopicPlan(settings: DispatcherSettings()).topics.map {
        TopicSpec(name: $0.name, partitions: $0.partitions)
    }

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1 (got \(brokers))") }
    }

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let logger = Logger(label: "wxpush.dev-kafka")
        let cluster = try EmbeddedKafka(brokers: brokers, logger: logger)
        for topic in topics {
            try cluster.createTopic(topic.name, partitions: topic.partitions, replicationFactor: brokers)
        }
        print(cluster.bootstrapServers)
        fflush(nil)  // the address must reach a pipe reader now, not at exit
        for topic in topics { logger.notice("topic \(topic.name) with \(topic.partitions) partitions") }
        let group = ServiceGroup(
            services: [HoldUntilShutdown(resource: cluster)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        try await group.run()
    }
}

/// `NAME:PARTITIONS`, as given to `--topic`.
struct TopicSpec: ExpressibleByArgument, Sendable {
    let name: String
    let partitions: Int

    init(name: String, partitions: Int) {
        self.name = name
        self.partitions = partitions
    }

    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.first, !name.isEmpty else { return nil }
        let partitions = parts.count == 2 ? Int(parts[1]) : 1
        guard let partitions, partitions > 0 else { return nil }
        self.init(name: String(name), partitions: partitions)
    }
}
