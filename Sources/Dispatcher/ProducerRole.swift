import Kafka

/// wxpush's producers, each configured for what it carries (librdkafka's defaults moved between
/// releases: `linger.ms` was 0.5 ms before 1.7 and is 5 ms since, so nothing is left to them).
/// Every one is idempotent with `acks=all` (`KafkaConfiguration`); a user's `kafka.properties`
/// go over these, and `kafka.producers.<role>` over both, for that producer only.
public enum ProducerRole: String, Sendable, CaseIterable {
    /// Outcomes, DLQ copies and msgid records (in transactions under exactly-once): many small
    /// records whose acknowledgement only moves the commit point, so they are batched.
    case outcomes
    /// One record per accepted send, awaited before its outcome is published: on each send's
    /// path, so it leaves at once (records that queue behind a request in flight still share one).
    case sentLog = "sent_log"
    /// One transaction per intake request, which the HTTP caller waits for.
    case intake
    /// Delivery receipts (each callback's answer waits for its own) and demand records (one per
    /// limited account and second).
    case signals
    /// Deferred requests moved along the delay topics: batches of due records, acknowledged
    /// before their tier's offsets are committed.
    case delays

    public var defaults: [String: String] {
        switch self {
        case .outcomes, .delays: ["linger.ms": "5", "batch.num.messages": "10000"]
        case .sentLog, .intake, .signals: ["linger.ms": "0"]
        }
    }

    /// `kafka`, configured for this producer.
    public func configuration(_ kafka: KafkaConfiguration) -> KafkaConfiguration {
        kafka.producer(rawValue, defaults: defaults)
    }
}
