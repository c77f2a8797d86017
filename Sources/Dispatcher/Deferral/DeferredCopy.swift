import Foundation
import Kafka

/// A request on its way through the delay topics: the original key, bytes and headers, plus
/// where it returns and when.
///
/// Headers: `wxpush-release-at` (when the request may go, Unix milliseconds), `wxpush-due-at`
/// (when it leaves this tier), `wxpush-return-topic` (its requests topic), `wxpush-deferred-from`
/// (topic/partition/offset where it was deferred; it returns to that partition) and `wxpush-original-timestamp` (its producer's
/// timestamp, so the outcome's `requested_at` and the end-to-end time stay the request's own).
public struct DeferredCopy: Sendable {
    public let record: KafkaMessage
    public let releaseAt: Date?
    public let dueAt: Date?
    public let returnTopic: String?

    public init(_ record: KafkaMessage) {
        self.record = record
        releaseAt = record.dateHeader("wxpush-release-at")
        dueAt = record.dateHeader("wxpush-due-at")
        returnTopic = record.header("wxpush-return-topic").map { String(decoding: $0, as: UTF8.self) }
    }

    static let ownHeaders: Set<String> = ["wxpush-release-at", "wxpush-due-at", "wxpush-return-topic"]

    /// The first copy of a request read from `original`, into `tier`'s topic.
    static func first(
        _ original: KafkaMessage, releaseAt: Date, tier: Duration, tiers: DelayTiers, now: Date
    ) -> KafkaRecord {
        // Always where it was read now (a producer's own header is replaced): the partition it
        // returns to is one this topic has.
        var headers = original.headers.filter { !ownHeaders.contains($0.name) && $0.name != "wxpush-deferred-from" }
        headers.append(KafkaHeader(name: "wxpush-deferred-from", string: "\(original.topic)/\(original.partition)/\(original.offset)"))
        if original.header("wxpush-original-timestamp") == nil, let timestamp = original.timestampMilliseconds {
            headers.append(KafkaHeader(name: "wxpush-original-timestamp", string: String(timestamp)))
        }
        return copy(
            topic: tiers.topic(for: tier), key: original.key, value: original.value, headers: headers, releaseAt: releaseAt,
            dueAt: now.addingTimeInterval(tier.seconds), returnTopic: original.topic)
    }

    /// Where this copy goes when it leaves its tier at `now`: the next tier while the wait left
    /// covers one, else back to its requests topic (without the delay headers). Nil when it is not
    /// a copy wxpush wrote: no return topic, or one that is not among `requestTopics` (a record
    /// written by someone else must not make the relay write to any topic it can reach).
    func next(tiers: DelayTiers, requestTopics: Set<String>, now: Date) -> KafkaRecord? {
        guard let returnTopic, requestTopics.contains(returnTopic) else { return nil }
        let headers = record.headers.filter { !Self.ownHeaders.contains($0.name) }
        let left = Duration.seconds((releaseAt ?? now).timeIntervalSince(now))
        if let releaseAt, let tier = tiers.tier(forWait: left) {
            return Self.copy(
                topic: tiers.topic(for: tier), key: record.key, value: record.value, headers: headers, releaseAt: releaseAt,
                dueAt: now.addingTimeInterval(tier.seconds), returnTopic: returnTopic)
        }
        // Back to the partition it came from: a producer's partitioner (Java's murmur2) may
        // place the key elsewhere than librdkafka's would.
        return KafkaRecord(topic: returnTopic, partition: originalPartition, key: record.key, value: record.value, headers: headers)
    }

    /// The partition it was deferred from (`wxpush-deferred-from`), when it is in its return topic.
    var originalPartition: Int32? {
        guard let from = record.header("wxpush-deferred-from").map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        let parts = from.split(separator: "/")
        guard parts.count >= 3, parts.dropLast(2).joined(separator: "/") == returnTopic else { return nil }
        return Int32(parts[parts.count - 2])
    }

    private static func copy(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader], releaseAt: Date, dueAt: Date, returnTopic: String
    ) -> KafkaRecord {
        KafkaRecord(
            topic: topic, key: key, value: value,
            headers: headers + [
                KafkaHeader(name: "wxpush-release-at", string: String(releaseAt.milliseconds)),
                KafkaHeader(name: "wxpush-due-at", string: String(dueAt.milliseconds)),
                KafkaHeader(name: "wxpush-return-topic", string: returnTopic),
            ])
    }
}

extension KafkaMessage {
    /// A header holding Unix milliseconds (the delay headers, `wxpush-original-timestamp`), as a date.
    func dateHeader(_ name: String) -> Date? {
        header(name).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }.map(Date.init(milliseconds:))
    }
}

extension Date {
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
