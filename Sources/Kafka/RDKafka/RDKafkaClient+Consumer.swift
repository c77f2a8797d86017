import CRdKafka
import Waiting

/// What the consumer's main queue tells the application.
enum RDKafkaConsumerEvent {
    case assign([TopicPartition])
    case revoke([TopicPartition], lost: Bool)
    case error(KafkaError)
}

extension RDKafkaClient {
    /// Rebalances and errors arrive as events on the consumer queue, so the application decides
    /// when a revoked partition is released (after it drained and committed).
    static func enableConsumerEvents(_ conf: OpaquePointer) {
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_ERROR)
    }

    func subscribe(_ topics: [String]) throws(KafkaError) {
        rd_kafka_poll_set_consumer(handle)
        let partitions = topics.map { TopicPartition(topic: $0, partition: RD_KAFKA_PARTITION_UA) }
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_subscribe(handle, list), "subscribe to \(topics)")
        }
    }

    /// Takes the next event without blocking (`rd_kafka_queue_poll` with timeout 0).
    func pollConsumerEvent(from queue: OpaquePointer) -> RDKafkaConsumerEvent?? {
        guard let event = rd_kafka_queue_poll(queue, 0) else { return .none }
        defer { rd_kafka_event_destroy(event) }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_REBALANCE:
            let partitions = rd_kafka_event_topic_partition_list(event).map { RDKafkaTopicPartitionList.read($0).map(\.0) } ?? []
            if rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
                return .some(.assign(partitions))
            }
            return .some(.revoke(partitions, lost: rd_kafka_assignment_lost(handle) != 0))
        case RD_KAFKA_EVENT_ERROR:
            return .some(.error(RDKafkaErrors.error(rd_kafka_event_error(event), String(cString: rd_kafka_event_error_string(event)))))
        default:
            return .some(nil)
        }
    }

    var consumerQueue: OpaquePointer { rd_kafka_queue_get_consumer(handle)! }

    func releaseQueue(_ queue: OpaquePointer) { rd_kafka_queue_destroy(queue) }

    /// Signals `wakeup` whenever an event lands on the (previously empty) queue. `wakeup` must
    /// outlive the callback: call `disableWakeup` before it may go.
    func enableWakeup(of queue: OpaquePointer, _ wakeup: Wakeup) {
        rd_kafka_queue_cb_event_enable(queue, rdkafkaConsumerQueueCallback, Unmanaged.passUnretained(wakeup).toOpaque())
    }

    /// Once this returns no callback runs or will run (librdkafka takes the queue's lock, which it
    /// holds while calling the callback).
    func disableWakeup(of queue: OpaquePointer) { rd_kafka_queue_cb_event_enable(queue, nil, nil) }

    /// librdkafka answers NULL while no protocol is in force (e.g. as the consumer closes); then the
    /// configured assignment strategy decides.
    var isCooperative: Bool {
        guard let name = rd_kafka_rebalance_protocol(handle) else { return configuredCooperative }
        return String(cString: name) == "COOPERATIVE"
    }

    /// Blocking: hands librdkafka the partitions of an assign event.
    func assign(_ partitions: [TopicPartition]) throws(KafkaError) {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            if isCooperative {
                try RDKafkaErrors.check(rd_kafka_incremental_assign(handle, list), "incremental assign")
            } else {
                try RDKafkaErrors.check(rd_kafka_assign(handle, list), "assign")
            }
        }
    }

    /// Blocking: gives the partitions of a revoke event back to the group.
    func unassign(_ partitions: [TopicPartition]) throws(KafkaError) {
        if isCooperative {
            try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
                try RDKafkaErrors.check(rd_kafka_incremental_unassign(handle, list), "incremental unassign")
            }
        } else {
            try RDKafkaErrors.check(rd_kafka_assign(handle, nil), "unassign")
        }
    }

    func assignment() throws(KafkaError) -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try RDKafkaErrors.check(rd_kafka_assignment(handle, &list), "assignment")
        guard let list else { return [] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return RDKafkaTopicPartitionList.read(list).map(\.0)
    }

    /// Marks offsets (the next offset to read) for the next commit; non-blocking.
    func storeOffsets(_ offsets: [TopicPartition: Int64]) throws(KafkaError) {
        try RDKafkaTopicPartitionList.with(offsets.map { ($0.key, offset: $0.value) }) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_offsets_store(handle, list), "store offsets")
            if let failed = RDKafkaTopicPartitionList.read(list).first(where: { $0.error != nil })?.error { throw failed }
        }
    }

    /// Blocking, at most `timeoutMilliseconds`: commits the given offsets, or every stored offset
    /// when `offsets` is nil. The reply comes on a private queue, so a coordinator that does not
    /// answer (a rebalance in progress) cannot hold the caller longer than the timeout.
    func commit(_ offsets: [TopicPartition: CommitPoint]?, timeoutMilliseconds: Int32) throws(KafkaError) {
        let replies = rd_kafka_queue_new(handle)!
        defer { rd_kafka_queue_destroy(replies) }
        if let offsets {
            try RDKafkaTopicPartitionList.with(offsets.map { ($0.key, $0.value) }) { list throws(KafkaError) in
                try RDKafkaErrors.check(rd_kafka_commit_queue(handle, list, replies, nil, nil), "commit")
            }
        } else {
            try RDKafkaErrors.check(rd_kafka_commit_queue(handle, nil, replies, nil, nil), "commit stored offsets")
        }
        guard let event = rd_kafka_queue_poll(replies, timeoutMilliseconds) else {
            throw KafkaError(code: .timedOut, message: "commit: no answer within \(timeoutMilliseconds) ms", isRetriable: true)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err == RD_KAFKA_RESP_ERR__NO_OFFSET { return }
        try RDKafkaErrors.check(err, "commit")
        if let list = rd_kafka_event_topic_partition_list(event),
            let failed = RDKafkaTopicPartitionList.read(list).first(where: { $0.error != nil })?.error
        {
            throw failed
        }
    }

    /// Blocking: the group's committed offsets and their metadata (nil where none is committed).
    func committed(_ partitions: [TopicPartition], timeoutMilliseconds: Int32) throws(KafkaError) -> [TopicPartition: CommitPoint?] {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_committed(handle, list, timeoutMilliseconds), "committed offsets")
            var result: [TopicPartition: CommitPoint?] = [:]
            for (tp, point, _) in RDKafkaTopicPartitionList.readWithMetadata(list) { result[tp] = point.offset >= 0 ? point : nil }
            return result
        }
    }

    /// Non-blocking: for each partition, the high watermark last seen in a fetch minus this
    /// consumer's position (nil while either is not known yet).
    func cachedLag(_ partitions: [TopicPartition]) -> [TopicPartition: Int64?] {
        var result: [TopicPartition: Int64?] = [:]
        for tp in partitions {
            var low: Int64 = -1
            var high: Int64 = -1
            let known = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR
            let position = (try? self.position(of: tp)) ?? -1
            result[tp] = known && high >= 0 && position >= 0 ? max(0, high - position) : nil
        }
        return result
    }

    /// Blocking: asks the partition leader for the low and high watermarks.
    func watermarks(_ tp: TopicPartition, timeoutMilliseconds: Int32) throws(KafkaError) -> Watermarks {
        var low: Int64 = 0
        var high: Int64 = 0
        try RDKafkaErrors.check(
            rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, timeoutMilliseconds),
            "watermarks of \(tp)"
        )
        return Watermarks(low: low, high: high)
    }

    /// Blocking: how many partitions the broker's metadata gives `topic`.
    func partitionCount(of topic: String, timeoutMilliseconds: Int32) throws(KafkaError) -> Int {
        try shape(of: topic, timeoutMilliseconds: timeoutMilliseconds).partitions
    }

    func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_pause_partitions(handle, list), "pause")
        }
    }

    func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        try RDKafkaTopicPartitionList.with(partitions) { list throws(KafkaError) in
            try RDKafkaErrors.check(rd_kafka_resume_partitions(handle, list), "resume")
        }
    }

    /// Starts leaving the group; its final revoke arrives on `queue`, which must be polled until `isConsumerClosed`.
    func beginClose(on queue: OpaquePointer) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_consumer_close_queue(handle, queue), "close")
    }

    var isConsumerClosed: Bool { rd_kafka_consumer_closed(handle) != 0 }
}

/// Called by librdkafka (any internal thread) when the consumer queue turns non-empty; only wakes the loop.
private let rdkafkaConsumerQueueCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = {
    _, opaque in
    guard let opaque else { return }
    Unmanaged<Wakeup>.fromOpaque(opaque).takeUnretainedValue().signal()
}
