import Kafka

/// The offsets done above a commit point, carried in the commit's metadata (the approach of
/// confluent's parallel-consumer): the partition's next owner, after a restart or a rebalance,
/// skips them instead of sending and reporting them again.
///
/// Text form: `wx1:` and the distances from the committed offset, comma-separated (`wx1:2,3,7`).
/// Kept under Kafka's default `offset.metadata.max.bytes` (4,096): offsets that do not fit are
/// simply redone (`client_msg_id` keeps WeChat from sending them twice).
public enum CommitMetadata {
    static let prefix = "wx1:"
    public static let maximumBytes = 4_000

    public static func encode(doneAbove offsets: [Int64], committed: Int64) -> [UInt8] {
        guard !offsets.isEmpty else { return [] }
        var text = prefix
        for offset in offsets.sorted() where offset > committed {
            let item = (text.count > prefix.count ? "," : "") + String(offset - committed)
            guard text.utf8.count + item.utf8.count <= maximumBytes else { break }
            text += item
        }
        return Array(text.utf8)
    }

    /// The done offsets above `committed`; empty for metadata written by anything else.
    public static func decode(_ metadata: [UInt8], committed: Int64) -> Set<Int64> {
        let text = String(decoding: metadata, as: UTF8.self)
        guard text.hasPrefix(prefix) else { return [] }
        var offsets = Set<Int64>()
        for part in text.dropFirst(prefix.count).split(separator: ",") {
            guard let distance = Int64(part), distance > 0 else { return [] }
            offsets.insert(committed + distance)
        }
        return offsets
    }
}

/// A partition's progress before it is encoded: cheap to hand over on every published outcome,
/// encoded (`point`) only when it is committed.
public struct CommitProgress: Sendable, Equatable {
    public var offset: Int64
    public var doneAbove: [Int64]

    public var point: CommitPoint { CommitPoint(offset: offset, metadata: CommitMetadata.encode(doneAbove: doneAbove, committed: offset)) }
}
