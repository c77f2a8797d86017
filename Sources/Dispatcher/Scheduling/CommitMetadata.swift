import Kafka

/// The offsets done above a commit point, carried in the commit's metadata (the approach of
/// confluent's parallel-consumer): the partition's next owner, after a restart or a rebalance,
/// skips them instead of sending and reporting them again.
///
/// Text form: `wx1:` and the distances from the committed offset, runs as ranges
/// (`wx1:2-40,45,47-90`). In a group commit it stays under Kafka's default
/// `offset.metadata.max.bytes` (4,096): offsets that do not fit are redone (`client_msg_id`
/// keeps WeChat from sending template messages twice); the progress log keeps them all.
public enum CommitMetadata {
    static let prefix = "wx1:"
    public static let maximumBytes = 4_000

    public static func encode(doneAbove offsets: [Int64], committed: Int64, limit: Int = maximumBytes) -> [UInt8] {
        var text = prefix
        var runs: [(first: Int64, last: Int64)] = []
        for offset in offsets.sorted() where offset > committed {
            if let last = runs.last?.last, offset == last + 1 { runs[runs.count - 1].last = offset } else { runs.append((offset, offset)) }
        }
        for run in runs {
            let first = run.first - committed
            let last = run.last - committed
            let item = (text.count > prefix.count ? "," : "") + (first == last ? "\(first)" : "\(first)-\(last)")
            guard text.utf8.count + item.utf8.count <= limit else { break }
            text += item
        }
        return text.count > prefix.count ? Array(text.utf8) : []
    }

    /// The done offsets above `committed`; empty for metadata written by anything else.
    public static func decode(_ metadata: [UInt8], committed: Int64) -> Set<Int64> {
        let text = String(decoding: metadata, as: UTF8.self)
        guard text.hasPrefix(prefix) else { return [] }
        var offsets = Set<Int64>()
        for part in text.dropFirst(prefix.count).split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int64($0) }
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, first > 0, last >= first, last - first < 1 << 20
            else { return [] }
            for distance in first...last { offsets.insert(committed + distance) }
        }
        return offsets
    }
}

/// A partition's progress before it is encoded: cheap to hand over on every published outcome,
/// encoded (`point`) only when it is committed.
public struct CommitProgress: Sendable, Equatable {
    public var offset: Int64
    public var doneAbove: [Int64]

    /// For a group or transactional offset commit: the metadata within Kafka's limit.
    public var point: CommitPoint { CommitPoint(offset: offset, metadata: CommitMetadata.encode(doneAbove: doneAbove, committed: offset)) }

    /// For the progress log: every done offset.
    public var fullPoint: CommitPoint {
        CommitPoint(offset: offset, metadata: CommitMetadata.encode(doneAbove: doneAbove, committed: offset, limit: .max))
    }
}
