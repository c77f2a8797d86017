import CRdKafka
import Glibc

/// Builds and reads `rd_kafka_topic_partition_list_t` inside a scope; the list never escapes it.
enum RDKafkaTopicPartitionList {
    static func with<R>(
        _ entries: [(TopicPartition, offset: Int64)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        try with(entries.map { ($0.0, CommitPoint(offset: $0.offset)) }, body)
    }

    /// Offsets with commit metadata; the list owns a malloc'd copy of each metadata (librdkafka frees it).
    static func with<R>(
        _ entries: [(TopicPartition, CommitPoint)],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        let list = rd_kafka_topic_partition_list_new(Int32(entries.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, point) in entries {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)!
            element.pointee.offset = point.offset
            if !point.metadata.isEmpty, let copy = malloc(point.metadata.count) {
                point.metadata.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                element.pointee.metadata = copy
                element.pointee.metadata_size = point.metadata.count
            }
        }
        return try body(list)
    }

    static func with<R>(
        _ partitions: [TopicPartition], _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws(KafkaError) -> R
    ) throws(KafkaError) -> R {
        try with(partitions.map { ($0, offset: Int64(RD_KAFKA_OFFSET_INVALID)) }, body)
    }

    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, offset: Int64, error: KafkaError?)] {
        readWithMetadata(list).map { ($0.0, offset: $0.point.offset, error: $0.error) }
    }

    static func readWithMetadata(
        _ list: UnsafePointer<rd_kafka_topic_partition_list_t>
    ) -> [(TopicPartition, point: CommitPoint, error: KafkaError?)] {
        (0..<Int(list.pointee.cnt)).map { index in
            let element = list.pointee.elems[index]
            let tp = TopicPartition(topic: String(cString: element.topic), partition: element.partition)
            let error = element.err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : RDKafkaErrors.error(element.err, "\(tp)")
            let metadata = element.metadata.map { Array(UnsafeRawBufferPointer(start: $0, count: element.metadata_size)) } ?? []
            return (tp, point: CommitPoint(offset: element.offset, metadata: metadata), error: error)
        }
    }
}
