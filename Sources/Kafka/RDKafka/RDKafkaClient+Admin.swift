import CRdKafka

/// librdkafka's admin API (CreateTopics, DescribeConfigs) and the metadata of one topic: blocking
/// calls, each answered on its own queue within `timeoutMilliseconds`.
extension RDKafkaClient {
    /// Blocking: partitions and replication of `topic` from the brokers' metadata.
    func shape(of topic: String, timeoutMilliseconds: Int32) throws(KafkaError) -> TopicShape {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        try RDKafkaErrors.check(
            rd_kafka_metadata(handle, 0, try topicHandle(topic), &metadata, timeoutMilliseconds), "metadata of \(topic)")
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        guard let metadata, metadata.pointee.topic_cnt > 0, let first = metadata.pointee.topics else {
            throw KafkaError(code: .unknownTopic, message: "no metadata for \(topic)")
        }
        try RDKafkaErrors.check(first.pointee.err, "metadata of \(topic)")
        let partitions = UnsafeBufferPointer(start: first.pointee.partitions, count: Int(first.pointee.partition_cnt))
        return TopicShape(
            partitions: partitions.count, replicationFactor: partitions.map { Int($0.replica_cnt) }.min() ?? 0,
            brokers: Int(metadata.pointee.broker_cnt))
    }

    /// Blocking: the brokers the cluster's metadata lists.
    func brokerCount(timeoutMilliseconds: Int32) throws(KafkaError) -> Int {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        try RDKafkaErrors.check(rd_kafka_metadata(handle, 0, nil, &metadata, timeoutMilliseconds), "metadata")
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        return Int(metadata?.pointee.broker_cnt ?? 0)
    }

    /// Blocking: creates the topics; per topic, nil or the broker's error (an existing topic
    /// answers `topicAlreadyExists`).
    func createTopics(_ topics: [NewTopic], timeoutMilliseconds: Int32) throws(KafkaError) -> [String: KafkaError?] {
        try requireController(timeoutMilliseconds: timeoutMilliseconds)
        var errstr = [CChar](repeating: 0, count: 512)
        var handles: [OpaquePointer?] = []
        defer { handles.withUnsafeMutableBufferPointer { rd_kafka_NewTopic_destroy_array($0.baseAddress, $0.count) } }
        for topic in topics {
            guard
                let new = rd_kafka_NewTopic_new(
                    topic.name, Int32(clamping: topic.partitions), Int32(clamping: topic.replicationFactor), &errstr,
                    errstr.count)
            else { throw KafkaError(code: .invalidArgument, message: "\(topic.name): \(String(nulTerminated: errstr))") }
            handles.append(new)
            for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                try RDKafkaErrors.check(rd_kafka_NewTopic_set_config(new, key, value), "\(topic.name) \(key)")
            }
        }
        let event = try adminRequest(RD_KAFKA_ADMIN_OP_CREATETOPICS, timeoutMilliseconds: timeoutMilliseconds) { options, queue in
            handles.withUnsafeMutableBufferPointer { rd_kafka_CreateTopics(handle, $0.baseAddress, $0.count, options, queue) }
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_CreateTopics_result(event),
            let entries = rd_kafka_CreateTopics_result_topics(result, &count)
        else { return [:] }
        var answers: [String: KafkaError?] = [:]
        for entry in UnsafeBufferPointer(start: entries, count: count) {
            let name = String(cString: rd_kafka_topic_result_name(entry))
            let err = rd_kafka_topic_result_error(entry)
            answers[name] =
                err == RD_KAFKA_RESP_ERR_NO_ERROR
                ? .some(nil)
                : KafkaError(
                    code: KafkaError.Code(rawValue: err.rawValue),
                    message: rd_kafka_topic_result_error_string(entry).map { String(cString: $0) } ?? "")
        }
        return answers
    }

    /// Blocking: each topic's configuration as the brokers report it (defaults included).
    func topicConfigs(_ topics: [String], timeoutMilliseconds: Int32) throws(KafkaError) -> [String: [String: String]] {
        try requireController(timeoutMilliseconds: timeoutMilliseconds)
        var resources: [OpaquePointer?] = topics.map { rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, $0) }
        defer { resources.withUnsafeMutableBufferPointer { rd_kafka_ConfigResource_destroy_array($0.baseAddress, $0.count) } }
        let event = try adminRequest(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeoutMilliseconds: timeoutMilliseconds) { options, queue in
            resources.withUnsafeMutableBufferPointer { rd_kafka_DescribeConfigs(handle, $0.baseAddress, $0.count, options, queue) }
        }
        defer { rd_kafka_event_destroy(event) }
        var count = 0
        guard let result = rd_kafka_event_DescribeConfigs_result(event),
            let described = rd_kafka_DescribeConfigs_result_resources(result, &count)
        else { return [:] }
        var configs: [String: [String: String]] = [:]
        for resource in UnsafeBufferPointer(start: described, count: count) {
            let name = String(cString: rd_kafka_ConfigResource_name(resource))
            try RDKafkaErrors.check(rd_kafka_ConfigResource_error(resource), "configuration of \(name)")
            var entryCount = 0
            guard let entries = rd_kafka_ConfigResource_configs(resource, &entryCount) else { continue }
            var values: [String: String] = [:]
            for entry in UnsafeBufferPointer(start: entries, count: entryCount) {
                guard let value = rd_kafka_ConfigEntry_value(entry) else { continue }
                values[String(cString: rd_kafka_ConfigEntry_name(entry))] = String(cString: value)
            }
            configs[name] = values
        }
        return configs
    }

    /// Admin requests go to the controller. librdkafka 2.0.2's mock cluster names broker 0, which
    /// is none of its brokers (they count from 1): a request would wait out its whole timeout, so
    /// this answers at once instead.
    private func requireController(timeoutMilliseconds: Int32) throws(KafkaError) {
        var metadata: UnsafePointer<rd_kafka_metadata_t>?
        try RDKafkaErrors.check(rd_kafka_metadata(handle, 0, nil, &metadata, timeoutMilliseconds), "metadata")
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        let brokers = metadata.map { UnsafeBufferPointer(start: $0.pointee.brokers, count: Int($0.pointee.broker_cnt)) }
        let controller = rd_kafka_controllerid(handle, 0)
        guard let brokers, brokers.contains(where: { $0.id == controller }) else {
            throw KafkaError(
                code: .unsupportedFeature,
                message: "the brokers name controller \(controller), none of theirs: no admin API (librdkafka's mock cluster has none)")
        }
    }

    /// Sends one admin request and waits for its result event (destroyed by the caller), or throws
    /// the request's own error or a timeout.
    private func adminRequest(
        _ operation: rd_kafka_admin_op_t, timeoutMilliseconds: Int32,
        _ send: (OpaquePointer, OpaquePointer) -> Void
    ) throws(KafkaError) -> OpaquePointer {
        guard let queue = rd_kafka_queue_new(handle), let options = rd_kafka_AdminOptions_new(handle, operation) else {
            throw KafkaError(code: .failed, message: "admin request could not be set up")
        }
        defer {
            rd_kafka_AdminOptions_destroy(options)
            rd_kafka_queue_destroy(queue)
        }
        var errstr = [CChar](repeating: 0, count: 512)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        if operation == RD_KAFKA_ADMIN_OP_CREATETOPICS {
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, timeoutMilliseconds, &errstr, errstr.count)
        }
        send(options, queue)
        // The request times out on its own; the extra second lets its timeout event arrive first.
        guard let event = rd_kafka_queue_poll(queue, timeoutMilliseconds + 1000) else {
            throw KafkaError(code: .timedOut, message: "no answer to the admin request in \(timeoutMilliseconds) ms")
        }
        let err = rd_kafka_event_error(event)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            rd_kafka_event_destroy(event)
            throw KafkaError(code: KafkaError.Code(rawValue: err.rawValue), message: text)
        }
        return event
    }
}
