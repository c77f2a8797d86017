import CRdKafka
import Logging

/// librdkafka's in-memory mock cluster: real Kafka protocol over TCP on 127.0.0.1.
///
/// `@unchecked Sendable`: the mock cluster API is thread-safe (it posts ops to the cluster's own
/// thread); the pointers are fixed at init and destroyed once in deinit.
final class RDKafkaMockCluster: @unchecked Sendable {
    private let host: RDKafkaClient
    private let cluster: OpaquePointer

    init(brokers: Int, logger: Logger) throws(KafkaError) {
        // The cluster lives inside a client instance; a producer with no brokers of its own hosts it.
        host = try RDKafkaClient(role: .producer, properties: ["log_level": "3"], logger: logger)
        guard let cluster = rd_kafka_mock_cluster_new(host.handle, Int32(brokers)) else {
            throw KafkaError(code: .failed, message: "could not start a mock cluster of \(brokers) brokers")
        }
        self.cluster = cluster
    }

    deinit { rd_kafka_mock_cluster_destroy(cluster) }

    var bootstrapServers: String { String(cString: rd_kafka_mock_cluster_bootstraps(cluster)) }

    func createTopic(_ name: String, partitions: Int, replicationFactor: Int) throws(KafkaError) {
        try RDKafkaErrors.check(
            rd_kafka_mock_topic_create(cluster, name, Int32(partitions), Int32(replicationFactor)),
            "create topic \(name)"
        )
    }

    func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        try RDKafkaErrors.check(err, "set broker \(id) \(up ? "up" : "down")")
    }

    func setRoundTripTime(broker id: Int32, milliseconds: Int) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_mock_broker_set_rtt(cluster, id, Int32(milliseconds)), "set rtt")
    }

    func setLeader(of tp: TopicPartition, broker id: Int32) throws(KafkaError) {
        try RDKafkaErrors.check(
            rd_kafka_mock_partition_set_leader(cluster, tp.topic, tp.partition, id), "set leader of \(tp)"
        )
    }

    /// The next requests of `apiKey` (any broker) fail with these errors, in order.
    func pushRequestErrors(apiKey: Int16, _ errors: [KafkaError.Code]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, codes)
    }
}
