import Foundation

/// How the dispatcher runs: topics, group, in-flight window, buffers, deadlines.
public struct DispatcherSettings: Sendable, Equatable {
    public var requestsTopic: String
    public var resultsTopic: String
    public var deadLetterTopic: String
    /// Exactly-once progress (`ProgressLog`): one partition, compacted.
    public var progressTopic: String
    /// msgid → request id of every `sent` outcome (compacted), read by every instance so a
    /// receipt reaching any of them names its request. Empty: not written.
    public var msgidsTopic: String = "wxpush.msgids"
    /// Every send WeChat accepted, keyed by request id (compacted; `SentLog`): a record redone
    /// after a crash or rebalance is reported from it instead of reaching its user twice. Empty:
    /// not kept (template messages then rely on `client_msg_id`, ten minutes; subscribe ones on nothing).
    public var sentTopic: String = "wxpush.sent"
    /// Each instance's demand per limited account (compacted), for re-dividing account limits by
    /// demand (`DemandExchange`). Empty: shares follow partitions only.
    public var demandTopic: String = "wxpush.demand"
    /// Recipients WeChat said left or refused, per scope (compacted; `RecipientRecord`), read by
    /// every instance so none calls WeChat for them. Empty: no suppression.
    public var recipientsTopic: String = "wxpush.recipients"
    /// Where requests deferred (by `not_before` or quiet hours) for longer than the shortest tier
    /// wait (`DelayTiers`); an empty prefix keeps them in their partition's buffer.
    public var delays = DelayTiers(prefix: "wxpush.delay")
    /// Request topics with a priority each (`requestsTopic` included; unlisted topics have 0):
    /// when an account's rate binds, the highest priority with records waiting gets the budget
    /// first and the others keep `priorityMinimumShare` of it together.
    public var priorities: [String: Int] = [:]
    public var priorityMinimumShare = 0.1
    public var groupID: String
    /// Records of one partition sending at once (different recipients); 1 is one-at-a-time.
    public var inFlightPerPartition: Int
    /// Records one partition holds at once in any state (waiting for their recipient's turn, backing
    /// off, sending, publishing), and their bytes: when either is reached the partition is paused.
    public var bufferedRecordsPerPartition: Int
    public var bufferedBytesPerPartition: Int
    /// On revoke or shutdown, how long in-flight sends may take before they are cancelled. Counted
    /// from the revoke or signal.
    public var drainTimeout: Duration
    /// How often each partition commits its progress (the commit point and the offsets done above
    /// it): what a kill -9 redoes at most.
    public var commitInterval: Duration
    /// `/healthz` fails when a partition has had sends in flight this long without one ending:
    /// something is wedged, and a restart redelivers its records.
    public var stallTimeout: Duration = .seconds(120)
    /// A request whose id this partition sent within this window (the sent log, then its own
    /// sends) is answered `sent`/`already_sent` with the first msgid instead of being sent again.
    /// Zero: only redeliveries of the same record are answered so.
    public var dedupWindow: Duration = .seconds(86_400)
    /// How the accounts' template libraries are used (`TemplateCatalog`), and how often read.
    public var templateCheck = TemplateCatalog.Mode.strict
    public var templateRefresh: Duration = .seconds(3600)
    public var retry: RetryPolicy
    /// Outcomes, DLQ copies and input offsets committed together in Kafka transactions, so a
    /// `read_committed` reader sees exactly one outcome per request across crashes and rebalances.
    public var exactlyOnce: Bool
    /// Names this instance's transactional producer (`wxpush-<group>-<instance_id>`) and its share
    /// in the demand exchange: distinct between live instances. Unset, it is the host name plus a
    /// suffix made at start, so two processes on one host never share it; set it to a stable name
    /// per instance (a StatefulSet ordinal, a systemd instance name) to have a crashed instance's
    /// open transaction aborted at its restart instead of after `transaction.timeout.ms`.
    public var instanceID: String

    public init(
        requestsTopic: String = "wxpush.requests", resultsTopic: String = "wxpush.results",
        deadLetterTopic: String = "wxpush.dlq", progressTopic: String = "wxpush.progress", groupID: String = "wxpush",
        inFlightPerPartition: Int = 64,
        bufferedRecordsPerPartition: Int? = nil, bufferedBytesPerPartition: Int = 16 * 1024 * 1024,
        drainTimeout: Duration = .seconds(8), commitInterval: Duration = .milliseconds(500), retry: RetryPolicy = RetryPolicy(),
        exactlyOnce: Bool = true, instanceID: String = DispatcherSettings.defaultInstanceID
    ) {
        self.requestsTopic = requestsTopic
        self.resultsTopic = resultsTopic
        self.deadLetterTopic = deadLetterTopic
        self.progressTopic = progressTopic
        self.groupID = groupID
        self.inFlightPerPartition = inFlightPerPartition
        self.bufferedRecordsPerPartition = bufferedRecordsPerPartition ?? max(2_048, inFlightPerPartition * 32)
        self.bufferedBytesPerPartition = bufferedBytesPerPartition
        self.drainTimeout = drainTimeout
        self.commitInterval = commitInterval
        self.retry = retry
        self.exactlyOnce = exactlyOnce
        self.instanceID = instanceID
    }

    /// Every request topic the group consumes: `requestsTopic` and the prioritised ones.
    public var allRequestTopics: [String] { Array(Set([requestsTopic]).union(priorities.keys)).sorted() }

    public func priority(of topic: String) -> Int { priorities[topic] ?? 0 }

    /// The outcome producer's `transactional.id`.
    public var transactionalID: String { "wxpush-\(groupID)-\(instanceID)" }

    /// The host name and this process's `incarnation`: unique among live processes.
    public static let defaultInstanceID = "\(ProcessInfo.processInfo.hostName)-\(incarnation)"

    /// Six hex digits made once per process: tells two processes with one `instance_id` apart.
    public static let incarnation = String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)

    var partitionLimits: PartitionScheduler<DispatchGate>.Limits {
        .init(window: inFlightPerPartition, maxRecords: bufferedRecordsPerPartition, maxBytes: bufferedBytesPerPartition)
    }
}
