import Kafka

/// The offsets done above a commit point, carried in the commit's metadata (the approach of
/// confluent's parallel-consumer): the partition's next owner, after a restart or a rebalance,
/// skips them instead of sending and reporting them again.
///
/// Text form: `wx1:` and the distances from the committed offset, runs as ranges
/// (`wx1:2-40,45,47-90`), then `|s` and the sent log's floor when there is one (`SentLog`:
/// where the next owner starts reading it). In a group commit it stays under Kafka's default
/// `offset.metadata.max.bytes` (4,096): offsets that do not fit are redone (`client_msg_id`
/// keeps WeChat from sending template messages twice); the progress log keeps them all.
public enum CommitMetadata {
    static let prefix = "wx1:"
    public static let maximumBytes = 4_000

    public static func encode(
        doneAbove offsets: [Int64], committed: Int64, sentLogFloor: Int64? = nil, limit: Int = maximumBytes
    ) -> [UInt8] {
        let floor = sentLogFloor.map { "|s\($0)" } ?? ""
        let limit = limit - floor.utf8.count
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
        return text.count > prefix.count || !floor.isEmpty ? Array((text + floor).utf8) : []
    }

    /// More done offsets than a partition's buffer could ever hold: metadata that says so is not ours.
    static let maxDecodedOffsets = 1 << 20

    /// The done offsets above `committed`; empty for metadata written by anything else.
    public static func decode(_ metadata: [UInt8], committed: Int64) -> Set<Int64> {
        let text = String(decoding: metadata, as: UTF8.self)
        guard text.hasPrefix(prefix) else { return [] }
        var offsets = Set<Int64>()
        let runs = text.dropFirst(prefix.count).prefix { $0 != "|" }
        for part in runs.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { Int64($0) }
            // Written by anyone with access to the progress topic: bounded, never overflowing.
            guard let first = bounds.first ?? nil, let last = bounds.last ?? nil, first > 0, last >= first,
                offsets.count + Int(clamping: last - first) < maxDecodedOffsets, committed >= 0, last <= Int64.max - committed
            else { return [] }
            for distance in first...last { offsets.insert(committed + distance) }
        }
        return offsets
    }

    /// The sent log's floor carried with the point; nil when there is none.
    public static func sentLogFloor(_ metadata: [UInt8]) -> Int64? {
        let text = String(decoding: metadata, as: UTF8.self)
        guard text.hasPrefix(prefix), let mark = text.range(of: "|s") else { return nil }
        return Int64(text[mark.upperBound...])
    }
}

/// A partition's progress before it is encoded: cheap to hand over on every published outcome,
/// encoded (`point`) only when it is committed.
public struct CommitProgress: Sendable, Equatable {
    public var offset: Int64
    public var doneAbove: [Int64]
    /// The lowest sent-log offset a record not yet done may have (`SentLog`); nil without one.
    public var sentLogFloor: Int64?

    public init(offset: Int64, doneAbove: [Int64], sentLogFloor: Int64? = nil) {
        self.offset = offset
        self.doneAbove = doneAbove
        self.sentLogFloor = sentLogFloor
    }

    /// For a group or transactional offset commit: the metadata within Kafka's limit.
    public var point: CommitPoint {
        CommitPoint(offset: offset, metadata: CommitMetadata.encode(doneAbove: doneAbove, committed: offset, sentLogFloor: sentLogFloor))
    }

    /// For the progress log: every done offset.
    public var fullPoint: CommitPoint {
        CommitPoint(
            offset: offset,
            metadata: CommitMetadata.encode(doneAbove: doneAbove, committed: offset, sentLogFloor: sentLogFloor, limit: .max))
    }
}
