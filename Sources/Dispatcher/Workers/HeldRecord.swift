import Kafka

/// Everything a partition holds about one record, kept in its scheduler (one value per offset):
/// the Kafka record (its outcome and DLQ copy need it) and the send to make, if any.
struct HeldRecord: Sendable {
    let original: KafkaMessage
    /// nil when its outcome was known at once (invalid, refused by the rules, sent before).
    var send: EventProcessor<ContinuousClock>.PendingSend?
    /// The account limits' epoch in which this record's send was reserved while it waits
    /// (`SendLimits.reserve`): when its wait ends it goes without asking again.
    var reservation: Int?
    /// Its outcome without a WeChat call, decided at its turn (`DispatchGate.answer`).
    var answered: Outcome?
}
