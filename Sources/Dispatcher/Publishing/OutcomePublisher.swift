import Kafka

/// Writes outcomes to the results topic (keyed by request id) and DLQ copies of the original bytes,
/// returning only after the brokers acknowledged both: only then may the input offset be committed.
public struct OutcomePublisher: Sendable {
    public let producer: KafkaProducer
    public let resultsTopic: String
    public let deadLetterTopic: String

    public init(producer: KafkaProducer, resultsTopic: String, deadLetterTopic: String) {
        self.producer = producer
        self.resultsTopic = resultsTopic
        self.deadLetterTopic = deadLetterTopic
    }

    public func publish(_ outcome: Outcome, original: KafkaMessage) async throws(KafkaError) {
        let result = KafkaRecord(topic: resultsTopic, key: Array(outcome.id.utf8), value: outcome.json())
        guard outcome.needsDeadLetter else {
            try await producer.send(result)
            return
        }
        let deadLetter = KafkaRecord(
            topic: deadLetterTopic, key: original.key, value: original.value,
            headers: original.headers + [
                KafkaHeader(name: "wxpush-error", string: outcome.reason ?? outcome.status.rawValue),
                KafkaHeader(name: "wxpush-attempts", string: String(outcome.attempts)),
                KafkaHeader(name: "wxpush-source", string: "\(original.topic)/\(original.partition)/\(original.offset)"),
            ]
        )
        async let resultDelivered = sendResult(producer, result)
        let deadLetterDelivered = await sendResult(producer, deadLetter)
        try await resultDelivered.get()
        try deadLetterDelivered.get()
    }

    private func sendResult(_ producer: KafkaProducer, _ record: KafkaRecord) async -> Result<Void, KafkaError> {
        do throws(KafkaError) {
            try await producer.send(record)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
