import CRdKafka

/// A consumer without a group: assign one partition at an offset and read to its end.
extension RDKafkaClient {
    /// Blocking: the records of `tp` from `offset` up to `end` (the high watermark when reading
    /// started): done once the position passed it (transaction markers count) or at EOF; fails
    /// after `timeoutMilliseconds`.
    func readToEnd(_ tp: TopicPartition, from offset: Int64, to end: Int64, timeoutMilliseconds: Int32) throws(KafkaError) -> [KafkaMessage]
    {
        guard offset < end else { return [] }
        rd_kafka_poll_set_consumer(handle)
        try RDKafkaTopicPartitionList.with([(tp, offset: offset)]) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_assign(handle, list), "assign \(tp)")
        }
        defer { rd_kafka_assign(handle, nil) }
        var messages: [KafkaMessage] = []
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeoutMilliseconds))
        while ContinuousClock.now < deadline {
            if let pointer = rd_kafka_consumer_poll(handle, 50) {
                defer { rd_kafka_message_destroy(pointer) }
                if pointer.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return messages }
                if pointer.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw RDKafkaErrors.error(pointer.pointee.err, "read \(tp)")
                }
                messages.append(KafkaMessage(copying: pointer, topic: tp.topic))
                if pointer.pointee.offset + 1 >= end { return messages }
            }
            if try position(of: tp) >= end { return messages }
        }
        throw KafkaError(code: .timedOut, message: "read \(tp): not at its end within \(timeoutMilliseconds) ms", isRetriable: true)
    }
}

extension RDKafkaClient {
    /// The next offset this consumer will read from `tp` (-1 when not known yet).
    func position(of tp: TopicPartition) throws(KafkaError) -> Int64 {
        try RDKafkaTopicPartitionList.with([tp]) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_position(handle, list), "position of \(tp)")
            return RDKafkaTopicPartitionList.read(list).first?.offset ?? -1
        }
    }
}

extension RDKafkaClient {
    /// Blocking: per partition, the first offset whose record timestamp is at or after
    /// `milliseconds` since the epoch (-1, the end, where none is).
    func offsets(
        _ partitions: [TopicPartition], atOrAfter milliseconds: Int64, timeoutMilliseconds: Int32
    ) throws(KafkaError)
        -> [TopicPartition: Int64]
    {
        try RDKafkaTopicPartitionList.with(partitions.map { ($0, offset: milliseconds) }) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_offsets_for_times(handle, list, timeoutMilliseconds), "offsets for times")
            var result: [TopicPartition: Int64] = [:]
            for (tp, offset, error) in RDKafkaTopicPartitionList.read(list) {
                if let error { throw error }
                result[tp] = offset
            }
            return result
        }
    }
}
