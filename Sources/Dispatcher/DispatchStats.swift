import Synchronization

/// Running totals of what the dispatcher did, for progress lines, summaries and (later) metrics.
public final class DispatchStats: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var byStatus: [Outcome.Status: Int] = [:]
        public var attempts = 0
        public var deadLettered = 0
        public var publishFailures = 0
        public var total: Int { byStatus.values.reduce(0, +) }
        public subscript(status: Outcome.Status) -> Int { byStatus[status] ?? 0 }
    }
    private let state = Mutex(Snapshot())
    /// The label values metrics may carry: events name any `app` and `type`, and each new value
    /// would be a series of its own; the rest count as `other`.
    private let labels = Mutex(DispatchMetrics.Labels(accounts: [], types: []))

    public init() {}

    func bound(accounts: [String], types: [String]) {
        labels.withLock { $0 = DispatchMetrics.Labels(accounts: Set(accounts), types: Set(types)) }
    }

    func record(_ outcome: Outcome) {
        DispatchMetrics.outcome(outcome, labels: labels.withLock { $0 })
        state.withLock {
            $0.byStatus[outcome.status, default: 0] += 1
            $0.attempts += outcome.attempts
            if outcome.needsDeadLetter { $0.deadLettered += 1 }
        }
    }

    func recordPublishFailure() { state.withLock { $0.publishFailures += 1 } }

    public var snapshot: Snapshot { state.withLock { $0 } }
}
