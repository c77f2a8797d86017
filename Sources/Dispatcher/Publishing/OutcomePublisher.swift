import Kafka
import Logging
import Waiting

/// Writes outcomes to the results topic (keyed by request id) and DLQ copies of the original bytes,
/// returning only after the brokers acknowledged both: only then may the input offset be committed.
///
/// It never gives up on its own: retriable errors are retried with backoff until the caller is
/// cancelled (drain deadline, second signal); a record the brokers refuse as too large is replaced
/// by one that fits. Only a fatal producer error (idempotence broken) ends it, and the caller stops.
public struct OutcomePublisher: Sendable {
    public let producer: KafkaProducer
    public let resultsTopic: String
    public let deadLetterTopic: String
    /// Where each `sent` outcome's msgid → request id goes (for receipts); nil: nowhere.
    public let msgidsTopic: String?
    /// Where what an outcome says about its recipient goes (43004, 43101: `RecipientRecord`); nil: nowhere.
    public let recipientsTopic: String?
    /// The largest record to send (librdkafka's `message.max.bytes` is 1,000,000 by default, and
    /// brokers often have less): a bigger DLQ copy becomes a reference copy.
    public let maxRecordBytes: Int
    let backoff: Backoff
    /// Set in exactly-once mode: records go into its transactions instead of straight out.
    let transactions: OutcomeTransactions?
    /// Where each send WeChat accepted is recorded before its outcome (nil: nowhere).
    public let sentLog: SentLog?

    public enum Result: Sendable, Equatable {
        case acknowledged
        case cancelled
        case fatal(KafkaError)
    }

    public init(
        producer: KafkaProducer, resultsTopic: String, deadLetterTopic: String, msgidsTopic: String? = nil, maxRecordBytes: Int = 900_000,
        backoff: Backoff = .publish, transactions: OutcomeTransactions? = nil, sentLog: SentLog? = nil, recipientsTopic: String? = nil
    ) {
        self.recipientsTopic = recipientsTopic
        self.sentLog = sentLog
        self.producer = producer
        self.resultsTopic = resultsTopic
        self.deadLetterTopic = deadLetterTopic
        self.msgidsTopic = msgidsTopic
        self.maxRecordBytes = maxRecordBytes
        self.backoff = backoff
        self.transactions = transactions
    }

    public func publish(_ outcome: Outcome, original: KafkaMessage, logger: Logger) async -> Result {
        var pending = [resultRecord(outcome)]
        if outcome.needsDeadLetter { pending.append(deadLetterRecord(outcome, original: original, limit: maxRecordBytes)) }
        if outcome.status == .sent, let msgid = outcome.msgid, let msgidsTopic {
            pending.append(MsgidRecord.make(topic: msgidsTopic, msgid: msgid, outcome: outcome.capped()))
        }
        if let recipientsTopic, let recipient = RecipientRecord.from(outcome.capped()) {
            pending.append(recipient.record(topic: recipientsTopic))
        }
        return await deliver(pending, for: original.topicPartition) { failures, again, attempt in
            let tooLarge = failures.contains { $0.error.code == .messageTooLarge && $0.record.topic == deadLetterTopic }
            logger.warning(
                "outcome not acknowledged; retrying",
                metadata: [
                    "id": "\(LogText.id(outcome.id))", "attempt": "\(attempt)", "error": "\(failures[0].error)",
                    "trace": "\(outcome.trace?.value ?? "-")",
                ])
            return again.map { record in
                // The brokers' limit is below ours: send the reference copy at a size any broker takes.
                guard tooLarge, record.topic == deadLetterTopic else { return record }
                return deadLetterRecord(outcome, original: original, limit: Self.safeRecordBytes)
            }
        }
    }

    /// Deferred requests' copies into their delay topics, in place of outcomes (those come when
    /// the requests return): acknowledged, in the partition's transaction under exactly-once,
    /// before the input offsets may be committed.
    public func forward(_ copies: [KafkaRecord], from partition: TopicPartition, logger: Logger) async -> Result {
        await deliver(copies, for: partition) { failures, again, _ in
            logger.warning(
                "\(failures.count) deferred requests not acknowledged by \(failures[0].record.topic); retrying",
                metadata: ["error": "\(failures[0].error)"])
            return again
        }
    }

    /// Produces `records` (into the partition's transaction under exactly-once) until the brokers
    /// acknowledged them all, the caller is cancelled, or the producer failed fatally. After each
    /// failure `retrying` hears it and returns what to send again (given what would be).
    private func deliver(
        _ records: [KafkaRecord], for partition: TopicPartition,
        retrying: (_ failures: [(record: KafkaRecord, error: KafkaError)], _ again: [KafkaRecord], _ attempt: Int) -> [KafkaRecord]
    ) async -> Result {
        var pending = records
        var attempt = 0
        while true {
            let failures =
                if let transactions {
                    await transactions.produce(pending, for: partition)
                } else {
                    await Self.sendAll(pending, with: producer)
                }
            if failures.isEmpty { return .acknowledged }
            if Task.isCancelled { return .cancelled }
            if let fatal = producer.fatalError ?? failures.first(where: { $0.error.isFatal })?.error { return .fatal(fatal) }
            attempt += 1
            DispatchMetrics.publishRetries.increment()
            // Straight out, only what failed is sent again; in a transaction (aborted now) all of it.
            pending = retrying(failures, transactions == nil ? failures.map(\.record) : pending, attempt)
            guard await ContinuousClock().pause(backoff.delay(afterAttempt: attempt)) else { return .cancelled }
        }
    }

    private func resultRecord(_ outcome: Outcome) -> KafkaRecord {
        let capped = outcome.capped()
        let headers = outcome.trace.map { [KafkaHeader(name: $0.name, string: $0.value)] } ?? []
        return KafkaRecord(topic: resultsTopic, key: Array(capped.id.utf8), value: capped.json(), headers: headers)
    }

    /// The original key and bytes with the `wxpush-*` headers; when that would not fit in `limit`, a
    /// reference copy instead: the first bytes, the original size, and `wxpush-truncated` saying so.
    func deadLetterRecord(_ outcome: Outcome, original: KafkaMessage, limit: Int) -> KafkaRecord {
        var headers =
            original.headers + [
                KafkaHeader(name: "wxpush-error", string: Outcome.cap(outcome.reason ?? outcome.status.rawValue, Outcome.textLimit)),
                KafkaHeader(name: "wxpush-attempts", string: String(outcome.attempts)),
                KafkaHeader(name: "wxpush-source", string: "\(original.topic)/\(original.partition)/\(original.offset)"),
                KafkaHeader(name: "wxpush-reason-code", string: outcome.reasonCode?.rawValue ?? outcome.status.rawValue),
            ] + (original.timestampMilliseconds.map { [KafkaHeader(name: "wxpush-original-timestamp", string: String($0))] } ?? [])
        let size =
            original.value.count + (original.key?.count ?? 0) + headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
        guard size + 512 > limit else {
            return KafkaRecord(topic: deadLetterTopic, key: original.key, value: original.value, headers: headers)
        }
        // The trace context (the first of each, if short) stays with the reference copy.
        let trace = ["traceparent", "x-request-id"].compactMap { name in
            original.headers.first { $0.name == name && ($0.value?.count ?? 0) <= 256 }
        }
        headers = headers.filter { $0.name.hasPrefix("wxpush-") } + trace
        headers.append(
            KafkaHeader(
                name: "wxpush-truncated",
                string:
                    "reference copy: the original (\(size) bytes with key and headers) exceeds \(limit) bytes; value keeps its first bytes, original headers dropped but the trace context"
            ))
        let keep = max(0, min(original.value.count, limit / 2))
        return KafkaRecord(
            topic: deadLetterTopic, key: original.key.map { Array($0.prefix(Outcome.idLimit)) }, value: Array(original.value.prefix(keep)),
            headers: headers)
    }

    /// A record size every broker accepts (the reference copy's size after MSG_SIZE_TOO_LARGE).
    static let safeRecordBytes = 64 * 1024

    static func sendAll(_ records: [KafkaRecord], with producer: KafkaProducer) async -> [(record: KafkaRecord, error: KafkaError)] {
        await withTaskGroup(of: (KafkaRecord, KafkaError)?.self) { group in
            for record in records {
                group.addTask {
                    do throws(KafkaError) {
                        try await producer.send(record)
                        return nil
                    } catch {
                        return (record, error)
                    }
                }
            }
            var failures: [(record: KafkaRecord, error: KafkaError)] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
    }
}
