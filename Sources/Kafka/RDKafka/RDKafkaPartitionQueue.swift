import CRdKafka
import Waiting

/// One assigned partition's own fetch queue, detached from the consumer queue, that wakes its reader
/// through a librdkafka queue callback instead of a blocking poll.
///
/// `@unchecked Sendable`: librdkafka queues are thread-safe; the pointers are fixed at init and
/// released once in deinit; messages are read by one task at a time (the partition's handler).
final class RDKafkaPartitionQueue: @unchecked Sendable {
    let topicPartition: TopicPartition
    let wakeup = Wakeup()
    private let client: RDKafkaClient
    private let queue: OpaquePointer
    private let wakeupReference: Unmanaged<Wakeup>

    /// Call before the partition is assigned: librdkafka then keeps the queue detached when fetching starts.
    init(client: RDKafkaClient, topicPartition: TopicPartition) {
        self.client = client
        self.topicPartition = topicPartition
        self.queue = rd_kafka_queue_get_partition(client.handle, topicPartition.topic, topicPartition.partition)
        rd_kafka_queue_forward(queue, nil)
        self.wakeupReference = Unmanaged.passRetained(wakeup)
        rd_kafka_queue_cb_event_enable(queue, rdkafkaQueueNonEmptyCallback, wakeupReference.toOpaque())
    }

    deinit {
        // Disabling takes the queue's lock (rkq_lock), which librdkafka also holds while it calls
        // the callback: once this returns no callback is running or will run, so the wake-up may go.
        rd_kafka_queue_cb_event_enable(queue, nil, nil)
        rd_kafka_queue_destroy(queue)
        wakeupReference.release()
    }

    /// Takes up to `limit` messages without blocking, copied out of librdkafka's memory.
    /// Per-message errors (a fetch error, a partition EOF) are logged and skipped.
    func take(limit: Int) -> [KafkaMessage] {
        var pointers = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: limit)
        let count = rd_kafka_consume_batch_queue(queue, 0, &pointers, limit)
        guard count > 0 else { return [] }
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(count)
        for pointer in pointers.prefix(count) {
            guard let pointer else { continue }
            defer { rd_kafka_message_destroy(pointer) }
            if pointer.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if pointer.pointee.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    client.logger.warning("fetch error on \(topicPartition): \(RDKafkaErrors.error(pointer.pointee.err))")
                }
                continue
            }
            messages.append(KafkaMessage(copying: pointer, topic: topicPartition.topic))
        }
        return messages
    }
}

extension KafkaMessage {
    init(copying message: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) {
        let m = message.pointee
        let value = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
        let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        self.init(
            topic: topic, partition: m.partition, offset: m.offset, key: key, value: value,
            headers: Self.headers(of: message),
            timestampMilliseconds: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
    }

    private static func headers(of message: UnsafeMutablePointer<rd_kafka_message_t>) -> [KafkaHeader] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        var headers: [KafkaHeader] = []
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
            headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
            index += 1
        }
        return headers
    }
}

/// Called by librdkafka (any internal thread) when the queue turns non-empty; only wakes the reader.
private let rdkafkaQueueNonEmptyCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = {
    _, opaque in
    guard let opaque else { return }
    Unmanaged<Wakeup>.fromOpaque(opaque).takeUnretainedValue().signal()
}
