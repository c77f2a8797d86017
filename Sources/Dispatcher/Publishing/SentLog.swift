import Kafka
import Logging

/// The de-duplication record: every send WeChat accepted, written (acknowledged, outside any
/// transaction) before its outcome is published, so a record redone after a crash or a rebalance
/// (its outcome lost with an aborted transaction, or never published) is reported from here
/// instead of reaching its user a second time. WeChat de-duplicates template messages for ten
/// minutes by `client_msg_id`, the subscribe kinds not at all; this covers every kind, for ever.
///
/// A compacted topic keyed by request id; request partition `p` writes to partition
/// `p % partitions` (one writer per partition at a time, so offsets follow send order). Each
/// commit carries the lowest sent-log offset its uncommitted records may have (`CommitProgress
/// .sentLogFloor`): the next owner reads the log from there, a few records, not the whole topic.
public struct SentLog: Sendable {
    public let topic: String
    /// Never transactional: an aborted transaction must not take the record with it.
    let producer: KafkaProducer
    let reader: KafkaPartitionReader
    let backoff: PublishBackoff
    /// Read when a commit point has no floor (a first run, or metadata of an older version).
    static let tail: Int64 = 10_000

    public init(topic: String, producer: KafkaProducer, reader: KafkaPartitionReader, backoff: PublishBackoff = PublishBackoff()) {
        self.topic = topic
        self.producer = producer
        self.reader = reader
        self.backoff = backoff
    }

    /// A request already sent: the msgid WeChat gave it.
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var msgid: Int64
    }

    /// The sent-log partition of a request partition (asks the brokers for the topic's partitions).
    func partition(for request: TopicPartition) async throws(KafkaError) -> TopicPartition {
        let count = try await reader.partitionCount(of: topic)
        return TopicPartition(topic: topic, partition: request.partition % Int32(max(1, count)))
    }

    /// Value: `<topic>/<partition>/<offset> <msgid>`; key: the request id.
    static func record(_ entry: Entry, source: TopicPartition, offset: Int64, in partition: TopicPartition) -> KafkaRecord {
        KafkaRecord(
            topic: partition.topic, partition: partition.partition, key: Array(entry.id.utf8),
            value: Array("\(source.topic)/\(source.partition)/\(offset) \(entry.msgid)".utf8))
    }

    /// The request offset (of `source`) and entry a record stands for; nil for another partition's.
    static func decode(_ message: KafkaMessage, source: TopicPartition) -> (offset: Int64, entry: Entry)? {
        let text = String(decoding: message.value, as: UTF8.self)
        let prefix = "\(source.topic)/\(source.partition)/"
        guard text.hasPrefix(prefix), let key = message.key else { return nil }
        let fields = text.dropFirst(prefix.count).split(separator: " ", maxSplits: 1)
        guard fields.count == 2, let offset = Int64(fields[0]), let msgid = Int64(fields[1]) else { return nil }
        return (offset, Entry(id: String(decoding: key, as: UTF8.self), msgid: msgid))
    }

    /// Records `entry` as sent for `source`'s record at `offset`; returns its sent-log offset once
    /// the brokers acknowledged it. Retried like an outcome until acknowledged; nil when cancelled
    /// or after a fatal producer error (the outcome's own publish then reports that).
    func write(_ entry: Entry, source: TopicPartition, offset: Int64, to partition: TopicPartition, logger: Logger) async -> Int64? {
        var attempt = 0
        while !Task.isCancelled {
            do throws(KafkaError) {
                return try await producer.send(Self.record(entry, source: source, offset: offset, in: partition)).offset
            } catch {
                if error.isFatal || producer.fatalError != nil { return nil }
                attempt += 1
                if attempt == 1 || attempt % 20 == 0 {
                    logger.warning(
                        "sent log not acknowledged; retrying",
                        metadata: ["id": "\(LogText.id(entry.id))", "attempt": "\(attempt)", "error": "\(error)"])
                }
            }
            do { try await Task.sleep(for: backoff.delay(afterAttempt: attempt, random: Double.random(in: 0..<1))) } catch {
                return nil
            }
        }
        return nil
    }

    /// What `partition` of the log says was sent from `source` at or above `committed`: read from
    /// `floor` (or the last `tail` records without one) to the end. Also the offset the next write
    /// will get at least.
    func sent(
        from source: TopicPartition, in partition: TopicPartition, committed: Int64, floor: Int64?
    ) async throws(KafkaError) -> (entries: [Int64: Entry], next: Int64) {
        let marks = try await reader.watermarks(for: partition)
        let start = max(marks.low, floor ?? (marks.high - Self.tail))
        var entries: [Int64: Entry] = [:]
        guard start < marks.high else { return (entries, marks.high) }
        for message in try await reader.read(partition, from: start, timeout: .seconds(30)) {
            if let (offset, entry) = Self.decode(message, source: source), offset >= committed { entries[offset] = entry }
        }
        return (entries, marks.high)
    }
}
