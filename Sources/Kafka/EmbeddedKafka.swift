import Logging

/// A Kafka cluster inside this process (librdkafka's mock cluster), reachable over TCP on 127.0.0.1
/// by any Kafka client. For development, the demo, tests and benchmarks; it keeps data in memory
/// and lives as long as this object.
public final class EmbeddedKafka: Sendable {
    private let cluster: RDKafkaMockCluster
    public let brokerCount: Int

    public init(brokers: Int = 1, logger: Logger = Logger(label: "wxpush.kafka.embedded")) throws(KafkaError) {
        cluster = try RDKafkaMockCluster(brokers: brokers, logger: logger)
        brokerCount = brokers
    }

    /// The `bootstrap.servers` value for clients: `127.0.0.1:port,…`.
    public var bootstrapServers: String { cluster.bootstrapServers }

    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws(KafkaError) {
        try cluster.createTopic(name, partitions: partitions, replicationFactor: min(replicationFactor, brokerCount))
    }

    /// Broker ids run from 1 to `brokerCount`.
    public func setBrokerDown(_ id: Int32) throws(KafkaError) { try cluster.setBroker(id, up: false) }

    public func setBrokerUp(_ id: Int32) throws(KafkaError) { try cluster.setBroker(id, up: true) }

    public func setRoundTripTime(broker id: Int32, _ rtt: Duration) throws(KafkaError) {
        try cluster.setRoundTripTime(broker: id, milliseconds: Int(rtt.milliseconds))
    }

    public func setLeader(of partition: TopicPartition, broker id: Int32) throws(KafkaError) {
        try cluster.setLeader(of: partition, broker: id)
    }

    /// The next requests of this kind fail with these errors, one each, in order.
    public func injectRequestErrors(_ api: KafkaAPI, _ errors: [KafkaError.Code]) {
        cluster.pushRequestErrors(apiKey: api.rawValue, errors)
    }
}

/// Kafka protocol request kinds, for fault injection.
public enum KafkaAPI: Int16, Sendable {
    case produce = 0
    case fetch = 1
    case listOffsets = 2
    case metadata = 3
    case offsetCommit = 8
    case offsetFetch = 9
    case findCoordinator = 10
    case joinGroup = 11
    case heartbeat = 12
    case syncGroup = 14
    case initProducerID = 22
}
