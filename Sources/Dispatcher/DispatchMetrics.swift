import Foundation
import Metrics

/// The dispatcher's metrics (swift-metrics; `wxpush run` bootstraps Prometheus and serves them on
/// `/metrics`). Fixed-label handles are made once here; labelled ones per event.
enum DispatchMetrics {
    static let consumed = Counter(label: "wxpush_events_consumed_total")
    static let inFlight = Meter(label: "wxpush_sends_in_flight")
    static let retriesWaiting = Meter(label: "wxpush_records_waiting", dimensions: [("reason", "retry")])
    static let limitWaiting = Meter(label: "wxpush_records_waiting", dimensions: [("reason", "limit")])
    static let throttleWaiting = Meter(label: "wxpush_records_waiting", dimensions: [("reason", "throttle")])
    static let deferredWaiting = Meter(label: "wxpush_records_waiting", dimensions: [("reason", "deferred")])
    /// Requests whose release was further off than the shortest delay tier, moved to a delay topic.
    static let deferred = Counter(label: "wxpush_requests_deferred_total")
    static let deadLettered = Counter(label: "wxpush_dlq_writes_total")
    static let publishRetries = Counter(label: "wxpush_outcome_publish_retries_total")
    static let commitsOK = Counter(label: "wxpush_commits_total", dimensions: [("result", "ok")])
    static let commitsFailed = Counter(label: "wxpush_commits_total", dimensions: [("result", "failed")])
    /// From the request record's timestamp to its outcome acknowledged by Kafka.
    static let endToEnd = Timer(label: "wxpush_end_to_end_seconds")

    /// A record of an internal topic that failed validation: skipped, never trusted.
    static func skipped(_ topic: InternalTopic) {
        Counter(label: "wxpush_internal_records_skipped_total", dimensions: [("topic", topic.rawValue)]).increment()
    }

    enum InternalTopic: String { case demand, progress, msgids, sent, recipients }

    static func commit(succeeded: Bool) { (succeeded ? commitsOK : commitsFailed).increment() }

    /// The values `wxpush_outcomes_total` takes for `account` and `type`; any other is `other`.
    struct Labels: Sendable {
        var accounts: Set<String>
        var types: Set<String>

        func account(_ value: String?) -> String { value.map { accounts.contains($0) ? $0 : "other" } ?? "" }
        func type(_ value: String?) -> String { value.map { types.contains($0) ? $0 : "other" } ?? "" }
    }

    static func outcome(_ outcome: Outcome, labels: Labels) {
        Counter(
            label: "wxpush_outcomes_total",
            dimensions: [
                ("status", outcome.status.rawValue), ("account", labels.account(outcome.app)), ("type", labels.type(outcome.type)),
                ("errcode", outcome.errcode.map(String.init) ?? ""),
            ]
        ).increment()
        if outcome.needsDeadLetter { deadLettered.increment() }
        if let requested = outcome.requestedAt { endToEnd.recordSeconds(max(0, Date().timeIntervalSince(requested))) }
    }
}

extension Meter {
    /// A change of a count, up or down.
    func add(_ delta: Int) {
        if delta > 0 { increment(by: Double(delta)) } else if delta < 0 { decrement(by: Double(-delta)) }
    }
}
