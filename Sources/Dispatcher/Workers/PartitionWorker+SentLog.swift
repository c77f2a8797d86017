import Foundation
import HeapModule
import Kafka

/// The sent log's side of a partition (`SentLog`): what it says was sent before this worker
/// started, and the floor each commit carries so the next owner knows where to read it from.
struct SentLogState: Sendable {
    /// The log partition this partition's sends are written to.
    var partition: TopicPartition
    /// Records above the commit point that WeChat accepted before a restart or rebalance.
    var alreadySent: [Int64: SentLog.Entry]
    /// At least the offset the next write gets: above every write acknowledged so far.
    var next: Int64
    /// Every record sent (or being written, or answered from the log) that the commit point
    /// has not passed yet, with the lowest log offset its entry may have. Kept until the
    /// commit point passes the record, not just until its outcome is out: a done offset that
    /// does not fit in the commit's metadata is redone by the next owner, who must find it.
    var logged = Heap<Logged>()

    struct Logged: Comparable, Sendable {
        var logOffset: Int64
        var requestOffset: Int64
        static func < (a: Logged, b: Logged) -> Bool { (a.logOffset, a.requestOffset) < (b.logOffset, b.requestOffset) }
    }

    /// Where a next owner must start reading, were `committed` the commit point.
    mutating func floor(committed: Int64) -> Int64 {
        while let lowest = logged.min, lowest.requestOffset < committed { logged.removeMin() }
        return logged.min?.logOffset ?? next
    }

    /// The record's send is being written: its offset will be at least the next one.
    mutating func writing(_ offset: Int64) { logged.insert(Logged(logOffset: next, requestOffset: offset)) }

    /// A send went into the log at `logOffset` (acknowledged: later writes get more).
    mutating func written(at logOffset: Int64) {
        next = max(next, logOffset + 1)
    }
}

extension PartitionWorker {
    /// Reads the sent log for this partition: the records above `committed` that were sent, and
    /// the sends within the rules' longest throttle window (counted into `throttle`) and the
    /// dedup window (into `recent`). Asked again
    /// while the brokers do not answer: without it a redone record could reach its user twice.
    /// nil without a sent log, or if the partition ends first.
    func sentLogStart(committed: CommitPoint?, throttle: inout RecipientThrottle, recent: inout RecentSends) async -> SentLogState? {
        guard let sentLog = publisher.sentLog else { return nil }
        let source = partition.topicPartition
        let window = max(processor.rules.longestThrottleWindow, recent.window)
        let found = await whileOwned("the sent log could not be read; sends wait for it") { () throws(KafkaError) in
            let logPartition = try await sentLog.partition(for: source)
            let reading = try await sentLog.read(
                from: source, in: logPartition, committed: committed?.offset ?? 0,
                floor: committed.flatMap { CommitMetadata.sentLogFloor($0.metadata) },
                since: window > 0 ? Date().addingTimeInterval(-window) : nil)
            return (logPartition, reading)
        }
        guard let (logPartition, reading) = found else { return nil }
        if !reading.alreadySent.isEmpty {
            logger.info("\(source): \(reading.alreadySent.count) records were sent before (sent log); their outcomes come from it")
        }
        for entry in reading.recent {
            if let at = entry.at { recent.sent(entry.id, msgid: entry.msgid, at: at) }
            guard let rule = processor.rules.throttle(for: entry.type), let to = entry.to, let at = entry.at else { continue }
            throttle.record(type: entry.type ?? "", to: to, rule: rule, at: at)
        }
        var state = SentLogState(partition: logPartition, alreadySent: reading.alreadySent, next: reading.next)
        // Answered from the log, these must stay findable until committed.
        for (offset, logOffset) in reading.loggedAt { state.logged.insert(.init(logOffset: logOffset, requestOffset: offset)) }
        return state
    }
}
