import CRdKafka

extension RDKafkaClient {
    /// Installs the delivery report callback; call from `configure` when creating a producer.
    static func enableDeliveryReports(_ conf: OpaquePointer) {
        rd_kafka_conf_set_dr_msg_cb(conf, rdkafkaKafkaDeliveryHandler)
    }

    /// Enqueues a record (copied); `callback` runs exactly once, from the poll thread, with the delivery report.
    func produce(_ record: KafkaRecord, callback: KafkaDeliveryHandler) throws(KafkaError) {
        let topic = try topicHandle(record.topic)
        let opaque = Unmanaged.passRetained(callback).toOpaque()
        let headers = makeHeaders(record.headers)
        let failure: OpaquePointer? = record.value.withUnsafeBytes { value in
            withOptionalBytes(record.key) { key in
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus in
                    var count = 0
                    func append(_ type: rd_kafka_vtype_t, _ set: (inout rd_kafka_vu_t.__Unnamed_union_u) -> Void) {
                        vus.initializeElement(at: count, to: rd_kafka_vu_t(type, set))
                        count += 1
                    }
                    append(RD_KAFKA_VTYPE_RKT) { $0.rkt = topic }
                    append(RD_KAFKA_VTYPE_VALUE) { $0.mem = .init(ptr: .init(mutating: value.baseAddress), size: value.count) }
                    if let key {
                        append(RD_KAFKA_VTYPE_KEY) { $0.mem = .init(ptr: .init(mutating: key.baseAddress), size: key.count) }
                    }
                    if let partition = record.partition { append(RD_KAFKA_VTYPE_PARTITION) { $0.i32 = partition } }
                    if let headers { append(RD_KAFKA_VTYPE_HEADERS) { $0.headers = headers } }
                    append(RD_KAFKA_VTYPE_MSGFLAGS) { $0.i = RD_KAFKA_MSG_F_COPY }
                    append(RD_KAFKA_VTYPE_OPAQUE) { $0.ptr = opaque }
                    defer { vus.baseAddress!.deinitialize(count: count) }
                    return rd_kafka_produceva(handle, vus.baseAddress, count)
                }
            }
        }
        if let failure {
            // Nothing was enqueued: ownership of the headers and the callback stays with us.
            Unmanaged<KafkaDeliveryHandler>.fromOpaque(opaque).release()
            if let headers { rd_kafka_headers_destroy(headers) }
            throw RDKafkaErrors.error(taking: failure, "produce to \(record.topic)")
        }
    }

    /// Waits (blocking) until every enqueued record has its delivery report, or the timeout passes.
    func flush(timeoutMilliseconds: Int32) throws(KafkaError) {
        try RDKafkaErrors.check(rd_kafka_flush(handle, timeoutMilliseconds), "flush")
    }

    /// The error that made this producer unusable (an idempotence or transaction invariant broke), if any.
    var fatalError: KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(code: .init(rawValue: err.rawValue), message: String(nulTerminated: errstr), isFatal: true)
    }

    /// Makes the producer fail fatally as a broken idempotence would (librdkafka's own test hook):
    /// the only way to drive that path against a broker that behaves.
    func triggerFatalErrorForTesting(_ reason: String) {
        _ = rd_kafka_test_fatal_error(handle, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason)
    }

    /// Messages still waiting for a delivery report.
    var outstanding: Int { Int(rd_kafka_outq_len(handle)) }

    private func makeHeaders(_ headers: [KafkaHeader]) -> OpaquePointer? {
        guard !headers.isEmpty, let list = rd_kafka_headers_new(headers.count) else { return nil }
        for header in headers {
            withOptionalBytes(header.value) { value in
                _ = rd_kafka_header_add(list, header.name, -1, value?.baseAddress, value?.count ?? 0)
            }
        }
        return list
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

extension rd_kafka_vu_t {
    init(_ type: rd_kafka_vtype_t, _ set: (inout __Unnamed_union_u) -> Void) {
        self.init()
        vtype = type
        set(&u)
    }
}

private let rdkafkaKafkaDeliveryHandler:
    @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void =
        {
            _, message, _ in
            guard let message = message?.pointee, let opaque = message._private else { return }
            let callback = Unmanaged<KafkaDeliveryHandler>.fromOpaque(opaque).takeRetainedValue()
            if message.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                let topic = String(cString: rd_kafka_topic_name(message.rkt))
                callback.complete(.success(KafkaDeliveryReport(topic: topic, partition: message.partition, offset: message.offset)))
            } else {
                callback.complete(.failure(RDKafkaErrors.error(message.err, "delivery")))
            }
        }
