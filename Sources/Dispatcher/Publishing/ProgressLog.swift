import Kafka

/// Exactly-once progress as records: each transaction also writes, for every partition it carries,
/// that partition's commit point (offset and done-above map) to a one-partition, compacted topic.
/// It commits or aborts with the outcomes, so the next owner of a partition starts from what the
/// last committed transaction reached, whatever the broker does with transactional offset commits.
/// (librdkafka's mock cluster, the embedded Kafka, accepts TxnOffsetCommit but never stores it.)
public struct ProgressLog: Sendable {
    public let topic: String
    public let group: String
    /// How far back from the end a lookup reads before it scans the whole topic.
    static let tail: Int64 = 2_000

    public init(topic: String, group: String) {
        self.topic = topic
        self.group = group
    }

    func key(_ partition: TopicPartition) -> [UInt8] { Array("\(group)|\(partition.topic)|\(partition.partition)".utf8) }

    func record(_ point: CommitPoint, for partition: TopicPartition) -> KafkaRecord {
        KafkaRecord(topic: topic, partition: 0, key: key(partition), value: Array("\(point.offset) ".utf8) + point.metadata)
    }

    /// A committed transaction's name (`<transactional.id>:<sequence>`), written inside it: the
    /// list of these is the list of committed transactions.
    func marker(_ transaction: String) -> KafkaRecord {
        KafkaRecord(topic: topic, partition: 0, key: Array("txn|\(group)".utf8), value: Array(transaction.utf8))
    }

    /// The transactions the log says committed, read from its start.
    public func committedTransactions(reader: KafkaPartitionReader) async throws(KafkaError) -> Set<String> {
        let log = TopicPartition(topic: topic, partition: 0)
        let key = Array("txn|\(group)".utf8)
        let records = try await reader.read(log, from: 0, timeout: .seconds(30))
        return Set(records.filter { $0.key == key }.map { String(decoding: $0.value, as: UTF8.self) })
    }

    static func decode(_ value: [UInt8]) -> CommitPoint? {
        guard let space = value.firstIndex(of: UInt8(ascii: " ")),
            let offset = Int64(String(decoding: value[..<space], as: UTF8.self)), offset >= 0
        else {
            DispatchMetrics.skipped(.progress)
            return nil
        }
        return CommitPoint(offset: offset, metadata: Array(value[(space + 1)...]))
    }

    /// The last committed point written for `partition`, if any.
    func latest(for partition: TopicPartition, reader: KafkaPartitionReader) async throws(KafkaError) -> CommitPoint? {
        let log = TopicPartition(topic: topic, partition: 0)
        let marks = try await reader.watermarks(for: log)
        let key = key(partition)
        for start in [max(marks.low, marks.high - Self.tail), marks.low] {
            let records = try await reader.read(log, from: start)
            if let last = records.last(where: { $0.key == key }) { return Self.decode(last.value) }
            if start == marks.low { break }
        }
        return nil
    }
}
