import DequeModule
import Foundation
import Kafka
import Logging
import Metrics
import Waiting

/// Moves deferred requests along the delay topics (`DelayTiers`): a consumer group of its own
/// (`<group>.delays`) over the tier topics, one task per assigned partition. Each task waits for
/// its partition's first record to be due, then forwards every due record at once (to the next
/// tier or back to its requests topic) and commits after the brokers acknowledged them.
///
/// At least once: a crash between a forward and its commit forwards again, and the request then
/// arrives twice; the dedup window answers the second `already_sent`, with no second WeChat call.
/// `DispatcherService` runs it beside the request partitions and ends it with them.
public struct DelayRelay: Sendable {
    let consumer: KafkaConsumer
    let producer: KafkaProducer
    let tiers: DelayTiers
    /// Where deferred requests may return (the configured requests topics).
    let requestTopics: Set<String>
    /// Where a record that is not a deferred request goes (a copy someone else wrote).
    let deadLetterTopic: String
    let logger: Logger
    /// Hears a fatal producer error (the dispatcher's health then stops the process).
    var failed: @Sendable (KafkaError) -> Void = { _ in }

    /// Records taken from one partition at once; prefetch beyond it stays bounded by librdkafka's
    /// `queued.max.messages.kbytes`.
    static let batch = 256

    public init(
        consumer: KafkaConsumer, producer: KafkaProducer, tiers: DelayTiers, requestTopics: Set<String>, deadLetterTopic: String,
        logger: Logger
    ) {
        self.requestTopics = requestTopics
        self.consumer = consumer
        self.producer = producer
        self.tiers = tiers
        self.deadLetterTopic = deadLetterTopic
        self.logger = logger
    }

    /// The relay's consumer: its own group, a small prefetch (a waiting head holds the rest back).
    public static func consumer(
        kafka: KafkaConfiguration, groupID: String, tiers: DelayTiers, logger: Logger
    ) throws(KafkaError)
        -> KafkaConsumer
    {
        var configuration = kafka
        configuration.properties["enable.auto.commit"] = "false"
        configuration.properties["queued.max.messages.kbytes"] = configuration.properties["queued.max.messages.kbytes"] ?? "2048"
        configuration.properties["queued.min.messages"] = configuration.properties["queued.min.messages"] ?? "1000"
        return try KafkaConsumer(configuration: configuration, groupID: "\(groupID).delays", topics: tiers.topics, logger: logger)
    }

    /// Until `consumer.triggerGracefulShutdown()`: each partition's due records are forwarded and
    /// committed before it is handed back.
    func run() async throws(KafkaError) {
        try await consumer.run(closeTimeout: .seconds(2)) { partition in await relay(partition) }
    }

    private func relay(_ partition: KafkaPartition) async {
        var held = Deque<KafkaMessage>()
        while !partition.isEnded && !Task.isCancelled {
            if held.isEmpty { held.append(contentsOf: partition.take(limit: Self.batch)) }
            let now = Date()
            var due: [KafkaMessage] = []
            while let head = held.first, dueAt(head, now: now) <= now { due.append(held.removeFirst()) }
            guard let last = due.last else {
                let wait = held.first.map { ContinuousClock.now + .seconds(dueAt($0, now: now).timeIntervalSince(now)) }
                await partition.wakeup.wait(until: wait)
                continue
            }
            let records = due.map { record in
                DeferredCopy(record).next(tiers: tiers, requestTopics: requestTopics, now: now)
                    ?? KafkaRecord(
                        topic: deadLetterTopic, key: record.key, value: record.value,
                        headers: record.headers + [
                            KafkaHeader(
                                name: "wxpush-error",
                                string: "not a deferred request: no wxpush-return-topic header naming a requests topic"),
                            KafkaHeader(name: "wxpush-source", string: "\(record.topic)/\(record.partition)/\(record.offset)"),
                            KafkaHeader(name: "wxpush-reason-code", string: "invalid_event"),
                        ])
            }
            guard await forward(records, partition) else { return }
            for record in records {
                let to = record.topic == deadLetterTopic ? "dlq" : record.topic.hasPrefix(tiers.prefix + ".") ? "tier" : "requests"
                Counter(label: "wxpush_delay_forwards_total", dimensions: [("to", to)]).increment()
            }
            do {
                try await consumer.commit([partition.topicPartition: last.offset + 1])
            } catch {
                // The next batch's commit covers these; a redelivery forwards them again (at least once).
                logger.warning("\(partition.topicPartition): commit after forwarding failed (\(error))")
            }
        }
    }

    /// When a copy leaves its tier: its `wxpush-due-at`, but never later than its tier after it was
    /// written (a wrong header, or a writer's clock far ahead, must not hold a partition back).
    private func dueAt(_ record: KafkaMessage, now: Date) -> Date {
        let written = record.timestampMilliseconds.map { Date(milliseconds: $0) } ?? now
        let bound = written.addingTimeInterval(tiers.tier(ofTopic: record.topic)?.seconds ?? 0)
        return min(DeferredCopy(record).dueAt ?? bound, bound)
    }

    /// Sends until the brokers acknowledged every record; false when the partition ended first
    /// (nothing is committed, its next owner forwards them again) or the producer failed fatally
    /// (`failed` hears it: the process stops, as for the outcome producer).
    private func forward(_ records: [KafkaRecord], _ partition: KafkaPartition) async -> Bool {
        var pending = records
        var attempt = 0
        while true {
            let failures = await OutcomePublisher.sendAll(pending, with: producer)
            if failures.isEmpty { return true }
            if let fatal = producer.fatalError ?? failures.first(where: { $0.error.isFatal })?.error {
                logger.error("\(partition.topicPartition): the delay relay's producer failed fatally (\(fatal))")
                failed(fatal)
                return false
            }
            pending = failures.map(\.record)
            attempt += 1
            logger.warning("\(partition.topicPartition): \(pending.count) deferred requests not acknowledged; retrying")
            let retry = ContinuousClock.now + Backoff.publish.delay(afterAttempt: attempt)
            while .now < retry {
                if partition.isEnded || Task.isCancelled { return false }
                await partition.wakeup.wait(until: retry)
            }
        }
    }
}
