/// A partition of a topic: the unit of assignment, ordering and offset commits.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }

    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// The low and high watermarks of a partition: the first offset still stored and the next offset to be written.
public struct Watermarks: Hashable, Sendable {
    public let low: Int64
    public let high: Int64
}

/// A committed position: the next offset to read, and what the committer attached to it (wxpush
/// carries the offsets already done above it, so the next owner skips them).
public struct CommitPoint: Hashable, Sendable {
    public var offset: Int64
    public var metadata: [UInt8]

    public init(offset: Int64, metadata: [UInt8] = []) {
        self.offset = offset
        self.metadata = metadata
    }
}
