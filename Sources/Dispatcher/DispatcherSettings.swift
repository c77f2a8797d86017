/// How the dispatcher runs: topics, group, in-flight window, buffers, deadlines.
public struct DispatcherSettings: Sendable, Equatable {
    public var requestsTopic: String
    public var resultsTopic: String
    public var deadLetterTopic: String
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
    public var retry: RetryPolicy

    public init(
        requestsTopic: String = "wxpush.requests", resultsTopic: String = "wxpush.results",
        deadLetterTopic: String = "wxpush.dlq", groupID: String = "wxpush", inFlightPerPartition: Int = 64,
        bufferedRecordsPerPartition: Int? = nil, bufferedBytesPerPartition: Int = 16 * 1024 * 1024,
        drainTimeout: Duration = .seconds(10), commitInterval: Duration = .milliseconds(500), retry: RetryPolicy = RetryPolicy()
    ) {
        self.requestsTopic = requestsTopic
        self.resultsTopic = resultsTopic
        self.deadLetterTopic = deadLetterTopic
        self.groupID = groupID
        self.inFlightPerPartition = inFlightPerPartition
        self.bufferedRecordsPerPartition = bufferedRecordsPerPartition ?? max(1_024, inFlightPerPartition * 16)
        self.bufferedBytesPerPartition = bufferedBytesPerPartition
        self.drainTimeout = drainTimeout
        self.commitInterval = commitInterval
        self.retry = retry
    }

    var partitionLimits: PartitionScheduler<ContinuousClock>.Limits {
        .init(window: inFlightPerPartition, maxRecords: bufferedRecordsPerPartition, maxBytes: bufferedBytesPerPartition)
    }
}
