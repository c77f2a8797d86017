/// How the dispatcher runs: topics, group, in-flight window, deadlines.
public struct DispatcherSettings: Sendable, Equatable {
    public var requestsTopic: String
    public var resultsTopic: String
    public var deadLetterTopic: String
    public var groupID: String
    /// Records of one partition in flight at once (different keys); 1 is one-at-a-time.
    public var inFlightPerPartition: Int
    /// On revoke or shutdown, how long in-flight sends may take before they are cancelled.
    public var drainTimeout: Duration
    public var retry: RetryPolicy

    public init(
        requestsTopic: String = "wxpush.requests", resultsTopic: String = "wxpush.results",
        deadLetterTopic: String = "wxpush.dlq", groupID: String = "wxpush", inFlightPerPartition: Int = 64,
        drainTimeout: Duration = .seconds(10), retry: RetryPolicy = RetryPolicy()
    ) {
        self.requestsTopic = requestsTopic
        self.resultsTopic = resultsTopic
        self.deadLetterTopic = deadLetterTopic
        self.groupID = groupID
        self.inFlightPerPartition = inFlightPerPartition
        self.drainTimeout = drainTimeout
        self.retry = retry
    }
}
