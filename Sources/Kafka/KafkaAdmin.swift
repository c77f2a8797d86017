import Logging

/// What a topic looks like in the brokers' metadata.
public struct TopicShape: Sendable, Equatable {
    public let partitions: Int
    /// The fewest replicas any of its partitions has.
    public let replicationFactor: Int
    /// Brokers in the cluster, as the same metadata answer lists them.
    public let brokers: Int

    public init(partitions: Int, replicationFactor: Int, brokers: Int) {
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.brokers = brokers
    }
}

/// A topic to create.
public struct NewTopic: Sendable, Equatable {
    public let name: String
    public let partitions: Int
    public let replicationFactor: Int
    public let configs: [String: String]

    public init(name: String, partitions: Int, replicationFactor: Int, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// Topic administration: metadata, configurations, creation. Never auto-creates a topic it looks at.
public final class KafkaAdmin: Sendable {
    private let client: RDKafkaClient

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wxpush.kafka.admin")) throws(KafkaError) {
        var properties = configuration.consumerProperties(groupID: "wxpush-admin")
        properties["enable.auto.commit"] = "false"
        properties["allow.auto.create.topics"] = "false"
        client = try RDKafkaClient(role: .consumer, properties: properties, logger: logger)
    }

    /// How many brokers the cluster's metadata lists.
    public func brokerCount(timeout: Duration = .seconds(10)) async throws(KafkaError) -> Int {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.brokerCount(timeoutMilliseconds: ms)
        }
    }

    /// The topic's partitions and replication; `unknownTopic`/`unknownTopicOrPartition` when it does not exist.
    public func shape(of topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError) -> TopicShape {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.shape(of: topic, timeoutMilliseconds: ms)
        }
    }

    /// Each topic's configuration (`cleanup.policy`, `retention.ms`, …, defaults included).
    /// A cluster without a controller (librdkafka 2.0.2's mock) is refused at once: `unsupportedFeature`.
    public func configs(of topics: [String], timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: [String: String]] {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.topicConfigs(topics, timeoutMilliseconds: ms)
        }
    }

    /// Creates the topics; per topic nil, or the broker's error (`topicAlreadyExists` for one that exists).
    public func create(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws(KafkaError) -> [String: KafkaError?] {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.createTopics(topics, timeoutMilliseconds: ms)
        }
    }
}
