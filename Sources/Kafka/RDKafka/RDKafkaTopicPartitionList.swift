import CRdKafka

/// Builds and reads `rd_kafka_topic_partition_list_t` inside a scope; the list never escapes it.
enum RDKafkaTopicPartitionList {
    static func with<R>(
        _ entries: [(TopicPartition, offset: Int64)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in entries {
            rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset
        }
        return try body(list)
    }

    static func with<R>(
        _ partitions: [TopicPartition], _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        try with(partitions.map { ($0, offset: Int64(RD_KAFKA_OFFSET_INVALID)) }, body)
    }

    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, offset: Int64, error: KafkaError?)] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            let tp = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
            let error = element.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : RDKafkaErrors.error(element.err, "\(tp)")
            return (tp, offset: element.offset, error: error)
        }
    }
}
