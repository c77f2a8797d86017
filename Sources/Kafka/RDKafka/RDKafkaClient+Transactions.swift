import CRdKafka

/// The transactional producer calls; all block (up to their timeout), so callers run them through
/// `blocking`.
extension RDKafkaClient {
    func initTransactions(timeoutMilliseconds: Int32) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_init_transactions(handle, timeoutMilliseconds), "init transactions")
    }

    func beginTransaction() throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_begin_transaction(handle), "begin transaction")
    }

    /// Adds the consumer's positions to the open transaction, fenced by its group generation (KIP-447).
    func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: CommitPoint], consumer: RDKafkaClient, timeoutMilliseconds: Int32
    ) throws(KafkaError) {
        guard let metadata = rd_kafka_consumer_group_metadata(consumer.handle) else {
            throw KafkaError(code: .state, message: "send offsets: the consumer has no group metadata")
        }
        defer { rd_kafka_consumer_group_metadata_destroy(metadata) }
        try RDKafkaTopicPartitionList.with(offsets.map { ($0.key, $0.value) }) { list throws(KafkaError) in
            try RDKafkaErrors.check(
                rd_kafka_send_offsets_to_transaction(handle, list, metadata, timeoutMilliseconds), "send offsets to transaction")
        }
    }

    func commitTransaction(timeoutMilliseconds: Int32) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_commit_transaction(handle, timeoutMilliseconds), "commit transaction")
    }

    func abortTransaction(timeoutMilliseconds: Int32) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_abort_transaction(handle, timeoutMilliseconds), "abort transaction")
    }
}
