import Foundation
import Kafka
import Logging
import Synchronization

/// The process's account limiters, shared by its partition workers. An instance's share of each
/// account's limits is its share of the request partitions (assigned here / all of them),
/// recomputed whenever a partition starts or ends here: with every instance doing the same, the
/// group as a whole holds the account-wide limit without talking to a central service.
public final class SendLimits: Sendable {
    private struct State {
        var accounts: [String: AccountLimiter<ContinuousClock>]
        var assigned: Set<TopicPartition> = []
        var totalPartitions = 1
    }

    private let state: Mutex<State>
    private let logger: Logger

    /// `accounts`: account name → its limits; accounts without limits are not listed.
    public init(accounts: [String: AccountLimits], logger: Logger) {
        state = Mutex(State(accounts: accounts.mapValues { AccountLimiter(limits: $0) }))
        self.logger = logger
    }

    public var isEmpty: Bool { state.withLock { $0.accounts.isEmpty } }

    /// Asks for one send of `account` now (`.go` for an account without limits).
    public func reserve(account: String) -> AccountLimiter<ContinuousClock>.Decision {
        state.withLock { state in
            guard state.accounts[account] != nil else { return .go }
            return state.accounts[account]!.reserve(now: .now, date: Date())
        }
    }

    /// WeChat answered 45009 for `account`: its records wait for the reset; returns when that is.
    public func quotaExhausted(account: String, date: Date) -> Date {
        let reset = state.withLock { state in
            state.accounts[account]?.quotaExhausted(date: date) ?? QuotaReset.shanghaiMidnight.next(after: date)
        }
        logger.warning("account \(account): WeChat's daily quota is used up (45009); its sends wait until \(reset)")
        return reset
    }

    /// A partition of the requests topic started (`total`: the topic's partitions) or ended here.
    public func partition(_ partition: TopicPartition, assigned: Bool, total: Int?) {
        let summary: String? = state.withLock { state in
            if assigned { state.assigned.insert(partition) } else { state.assigned.remove(partition) }
            if let total, total > 0 { state.totalPartitions = total }
            guard !state.accounts.isEmpty, !state.assigned.isEmpty else { return nil }
            let share = Double(state.assigned.count) / Double(max(state.totalPartitions, state.assigned.count))
            var lines: [String] = []
            for name in state.accounts.keys.sorted() {
                state.accounts[name]!.setShare(share, now: .now)
                let limiter = state.accounts[name]!
                let rate = limiter.rate.map { String(format: "%.1f/s of %.1f/s", $0, limiter.limits.rate ?? 0) } ?? "no rate limit"
                let quota = limiter.dailyBudget.map { "daily quota \($0) of \(limiter.limits.dailyQuota ?? 0)" } ?? "no daily quota"
                lines.append("\(name): \(rate), \(quota)")
            }
            return "share \(state.assigned.count)/\(state.totalPartitions) partitions: " + lines.joined(separator: "; ")
        }
        if let summary { logger.info("limits: \(summary)") }
    }
}
