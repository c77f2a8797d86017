import Foundation
import Kafka
import Logging
import Waiting

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
/// The records also name the recipient and the event type, so a new owner rebuilds the rules'
/// per-recipient throttles from the sends of their longest window.
public struct SentLog: Sendable {
    public let topic: String
    /// Never transactional: an aborted transaction must not take the record with it.
    let producer: KafkaProducer
    let reader: KafkaPartitionReader
    let backoff: Backoff
    /// Read when a commit point has no floor (a first run, or metadata of an older version).
    static let tail: Int64 = 10_000

    public init(topic: String, producer: KafkaProducer, reader: KafkaPartitionReader, backoff: Backoff = .publish) {
        self.topic = topic
        self.producer = producer
        self.reader = reader
        self.backoff = backoff
    }

    /// A request sent: the msgid WeChat gave it, to whom, of which type, and when (the record's time).
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var msgid: Int64
        public var to: String?
        public var type: String?
        public var at: Date?

        public init(id: String, msgid: Int64, to: String? = nil, type: String? = nil, at: Date? = nil) {
            self.id = id
            self.msgid = msgid
            self.to = to
            self.type = type
            self.at = at
        }
    }

    /// What a new owner learns from the log.
    struct Reading: Sendable {
        /// Records at or above the commit point that were sent: request offset → entry, and
        /// → the entry's offset in the log.
        var alreadySent: [Int64: Entry] = [:]
        var loggedAt: [Int64: Int64] = [:]
        /// Every send read, for the throttles.
        var recent: [Entry] = []
        /// At least the offset the next write gets.
        var next: Int64 = 0
    }

    /// The sent-log partition of a request partition (asks the brokers for the topic's partitions).
    func partition(for request: TopicPartition) async throws(KafkaError) -> TopicPartition {
        let count = try await reader.partitionCount(of: topic)
        return TopicPartition(topic: topic, partition: request.partition % Int32(max(1, count)))
    }

    /// Value: `<topic>/<partition>/<offset> <msgid>\t<type>\t<to>`; key: the request id.
    static func record(_ entry: Entry, source: TopicPartition, offset: Int64, in partition: TopicPartition) -> KafkaRecord {
        KafkaRecord(
            topic: partition.topic, partition: partition.partition, key: Array(entry.id.utf8),
            value: Array("\(source.topic)/\(source.partition)/\(offset) \(entry.msgid)\t\(entry.type ?? "")\t\(entry.to ?? "")".utf8))
    }

    /// The longest id an entry keeps (far above a real request id; openids are 28 bytes).
    static let maxFieldBytes = 1024

    /// The request offset (of `source`) and entry a record stands for; nil for another partition's.
    static func decode(_ message: KafkaMessage, source: TopicPartition) -> (offset: Int64, entry: Entry)? {
        let text = String(decoding: message.value, as: UTF8.self)
        let prefix = "\(source.topic)/\(source.partition)/"
        guard text.hasPrefix(prefix), let key = message.key else { return nil }
        let columns = text.dropFirst(prefix.count).split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
        let fields = columns[0].split(separator: " ", maxSplits: 1)
        // Anyone with produce rights can write here: a record out of range is skipped, not kept.
        guard fields.count == 2, let offset = Int64(fields[0]), offset >= 0, let msgid = Int64(fields[1]),
            key.count <= SentLog.maxFieldBytes, message.value.count <= 3 * SentLog.maxFieldBytes
        else {
            DispatchMetrics.skipped(.sent)
            return nil
        }
        var entry = Entry(id: String(decoding: key, as: UTF8.self), msgid: msgid)
        if columns.count == 3 {
            entry.type = columns[1].isEmpty ? nil : String(columns[1])
            entry.to = columns[2].isEmpty ? nil : String(columns[2])
        }
        entry.at = message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
        return (offset, entry)
    }

    /// Records `entry` as sent for `source`'s record at `offset`; returns its sent-log offset once
    /// the brokers acknowledged it. Retried like an outcome until acknowledged. WeChat accepted
    /// the send already, so the write outlives the caller's cancellation (a drain deadline, a lost
    /// partition, a second signal) for up to `outliving`; nil after that, or after a fatal
    /// producer error (the outcome's own publish then reports it).
    func write(
        _ entry: Entry, source: TopicPartition, offset: Int64, to partition: TopicPartition, outliving: Duration = .seconds(1),
        logger: Logger
    ) async -> Int64? {
        let writing = Task { await attempts(entry, source: source, offset: offset, to: partition, logger: logger) }
        return await withTaskCancellationHandler {
            await writing.value
        } onCancel: {
            Task {
                try? await Task.sleep(for: outliving)
                writing.cancel()
            }
        }
    }

    /// Until acknowledged (its offset), cancelled or a fatal producer error (nil).
    private func attempts(
        _ entry: Entry, source: TopicPartition, offset: Int64, to partition: TopicPartition, logger: Logger
    ) async -> Int64? {
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
            guard await ContinuousClock().pause(backoff.delay(afterAttempt: attempt)) else { return nil }
        }
        return nil
    }

    /// What `partition` of the log says was sent from `source`: read from `floor` (or the last
    /// `tail` records without one), and from `since` when that is earlier (at most `recentLimit`
    /// records back), to the end.
    func read(
        from source: TopicPartition, in partition: TopicPartition, committed: Int64, floor: Int64?, since: Date?
    ) async throws(KafkaError) -> Reading {
        let marks = try await reader.watermarks(for: partition)
        var start = max(marks.low, floor ?? (marks.high - Self.tail))
        if let since, let recent = try await firstOffset(in: partition, atOrAfter: since, marks: marks) {
            start = min(start, max(marks.low, recent, marks.high - Self.recentLimit))
        }
        var reading = Reading(next: marks.high)
        guard start < marks.high else { return reading }
        for message in try await reader.read(partition, from: start, timeout: .seconds(60)) {
            guard let (offset, entry) = Self.decode(message, source: source) else { continue }
            if offset >= committed {
                reading.alreadySent[offset] = entry
                reading.loggedAt[offset] = message.offset
            }
            if since != nil { reading.recent.append(entry) }
        }
        return reading
    }

    /// The first offset of a record written at or after `date` (nil: none is that recent). The
    /// embedded cluster answers no time lookup (librdkafka's mock): when it says none but the last
    /// record is recent, the answer is taken as unknown and the read starts `recentLimit` back.
    private func firstOffset(in partition: TopicPartition, atOrAfter date: Date, marks: Watermarks) async throws(KafkaError) -> Int64? {
        if let offset = try await reader.offsets([partition], atOrAfter: date)[partition] ?? nil { return offset }
        guard marks.high > marks.low, let last = try await reader.read(partition, from: marks.high - 1).last,
            let milliseconds = last.timestampMilliseconds, Double(milliseconds) / 1000 >= date.timeIntervalSince1970
        else { return nil }
        return marks.low
    }

    /// The most records read back for the throttles' windows.
    static let recentLimit: Int64 = 100_000
}
