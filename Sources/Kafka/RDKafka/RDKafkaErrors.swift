import CRdKafka

/// Turns librdkafka's error codes and error objects into `KafkaError`.
enum RDKafkaErrors {
    static func name(of code: KafkaError.Code) -> String {
        if code == .cancelled { return "CANCELLED" }
        return String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: code.rawValue)))
    }

    static func error(_ err: rd_kafka_resp_err_t, _ context: String? = nil) -> KafkaError {
        let code = KafkaError.Code(rawValue: err.rawValue)
        let text = String(cString: rd_kafka_err2str(err))
        return KafkaError(
            code: code,
            message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: retriableCodes.contains(code),
            isFatal: code == .fatal
        )
    }

    /// Consumes (destroys) an `rd_kafka_error_t`.
    static func error(taking object: OpaquePointer, _ context: String? = nil) -> KafkaError {
        defer { rd_kafka_error_destroy(object) }
        let code = KafkaError.Code(rawValue: rd_kafka_error_code(object).rawValue)
        let text = String(cString: rd_kafka_error_string(object))
        return KafkaError(
            code: code,
            message: context.map { "\($0): \(text)" } ?? text,
            isRetriable: rd_kafka_error_is_retriable(object) != 0 || retriableCodes.contains(code),
            isFatal: rd_kafka_error_is_fatal(object) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(object) != 0
        )
    }

    /// Throws when an optional `rd_kafka_error_t` is set.
    static func check(_ object: OpaquePointer?, _ context: String) throws(KafkaError) {
        if let object { throw error(taking: object, context) }
    }

    static func check(_ err: rd_kafka_resp_err_t, _ context: String) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw error(err, context) }
    }

    private static let retriableCodes: Set<KafkaError.Code> = [
        .transport, .messageTimedOut, .allBrokersDown, .timedOut, .queueFull, .notLeaderForPartition,
        .requestTimedOut, .notEnoughReplicas, .rebalanceInProgress,
    ]
}
