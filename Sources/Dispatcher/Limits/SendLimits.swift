import Foundation
import Kafka
import Logging
import Synchronization
import Waiting

/// The process's `AccountBook`, shared by its partition workers: the book behind one lock, its
/// events delivered outside it (log lines to the logger; an account's change to the workers with
/// records waiting on that account, and nothing else).
public final class SendLimits: Sendable {
    public typealias Change = AccountBook<ContinuousClock>.Change

    private struct State {
        var book: AccountBook<ContinuousClock>
        var subscribers: [ObjectIdentifier: @Sendable (Change) -> Void] = [:]
        /// Per account, the workers whose records wait on it since its last change. A worker is
        /// added in the same locked step that gives its record a wait (and the epoch it waits
        /// in), so no change of a later epoch can miss it; the account's next change takes the
        /// set, and records that wait again add their worker again.
        var waiting: [String: Set<ObjectIdentifier>] = [:]
    }

    private let state: Mutex<State>
    /// The number of the last share line logged: workers starting together update the book in
    /// one order and log from their own threads; only newer lines are logged, so the last one is
    /// the share in force.
    private let shareLogged = Mutex(0)
    private let logger: Logger
    /// Some account has a rate or a quota, so shares matter (they need the topic's partition count).
    public let hasLimits: Bool
    /// Signalled when the daily quota should be asked of WeChat again (an operator's reset).
    public let recalibrate = Wakeup()

    /// `limits`: account name → its limits, for the accounts that have some; `breakers`: every
    /// account's name, each getting a circuit breaker with `breaker` settings.
    /// `minimumShare`: what lower-priority request topics keep of a bound rate (`AccountLimiter`).
    public init(
        limits: [String: AccountLimits], breakers: [String] = [], breaker: CircuitBreaker<ContinuousClock>.Settings = .init(),
        minimumShare: Double = 0.1, logger: Logger
    ) {
        state = Mutex(State(book: AccountBook(limits: limits, breakers: breakers, breaker: breaker, minimumShare: minimumShare)))
        self.logger = logger
        hasLimits = !limits.isEmpty
    }

    /// `body` on the book under the lock; then its events go out. A quota reset also ends the
    /// account's backoffs (a 45009 waits for the reset), which no reservation names: it goes to
    /// every worker.
    /// `then` runs under the same lock after the changes took their workers: a worker it
    /// registers hears the next change, not one raised by `body` itself (its record's epoch is
    /// already the new one).
    private func update<T>(_ body: (inout State) -> T, then: (inout State, T) -> Void = { _, _ in }) -> T {
        let (result, events, deliveries) = state.withLock { state in
            let result = body(&state)
            let events = state.book.takeEvents()
            var deliveries: [Change: [@Sendable (Change) -> Void]] = [:]
            for case .change(let change) in events {
                let workers = change.quotaReset ? Set(state.subscribers.keys) : state.waiting.removeValue(forKey: change.account) ?? []
                deliveries[change] = workers.compactMap { state.subscribers[$0] }
            }
            then(&state, result)
            return (result, events, deliveries)
        }
        for event in events {
            switch event {
            case .change(let change):
                for deliver in deliveries[change] ?? [] { deliver(change) }
            case .log(let level, let message):
                logger.log(level: level, "\(message)")
            case .share(let line, let number):
                shareLogged.withLock { logged in
                    guard number > logged else { return }
                    logged = number
                    logger.info("\(line)")
                }
            }
        }
        return result
    }

    private func read<T>(_ body: (AccountBook<ContinuousClock>) -> T) -> T { state.withLock { body($0.book) } }

    /// A worker's delivery of the changes that concern it (nil removes it).
    func subscribe(_ id: ObjectIdentifier, _ deliver: (@Sendable (Change) -> Void)?) {
        state.withLock { $0.subscribers[id] = deliver }
    }

    /// `AccountBook.reserve`, now. A wait makes `worker` (its subscription) hear the account's
    /// next change.
    public func reserve(
        account: String, priority: Int = 0, holding: Int? = nil, worker: ObjectIdentifier? = nil
    ) -> (decision: AccountLimiter<ContinuousClock>.Decision, epoch: Int) {
        update { state in
            state.book.reserve(account: account, priority: priority, holding: holding, now: .now, date: Date())
        } then: { state, reserved in
            if case .wait = reserved.decision, let worker { state.waiting[account, default: []].insert(worker) }
        }
    }

    /// Records of `account` and `priority` parked for its limits (+) or no longer (-).
    func parked(_ account: String, priority: Int, _ delta: Int) {
        update { $0.book.parked(account, priority: priority, delta, now: .now) }
    }

    public func answered(account: String, healthy: Bool) { update { $0.book.answered(account: account, healthy: healthy, now: .now) } }

    public func quotaExhausted(account: String, date: Date) -> Date { update { $0.book.quotaExhausted(account: account, date: date) } }

    public func resetQuota(account: String) {
        update { $0.book.resetQuota(account: account, now: .now) }
        recalibrate.signal()
    }

    public func calibrate(account: String, dailyLimit: Int, usedToday: Int) {
        update { $0.book.calibrate(account: account, dailyLimit: dailyLimit, usedToday: usedToday, now: .now, date: Date()) }
    }

    public func setExchangedShare(_ share: Double?, for account: String) {
        update { $0.book.setExchangedShare(share, for: account, now: .now) }
    }

    public func partition(_ partition: TopicPartition, assigned: Bool, totals: [String: Int]) {
        update { $0.book.partition(partition, assigned: assigned, totals: totals, now: .now) }
    }

    public var partitionShare: Double { read(\.partitionShare) }
    public var limitedAccounts: [String] { read(\.limitedAccounts) }
    public var circuitsOpen: [String: Bool] { read(\.circuitsOpen) }
    public func demand(of account: String) -> Int { read { $0.demand(of: account) } }

    /// Per limited account, what this instance holds now: share, rate, quota used and budget.
    public struct Snapshot: Sendable {
        public var account: String
        public var share: Double
        public var ratePerSecond: Double?
        public var usedToday: Int
        public var dailyBudget: Int?
    }

    public var snapshot: [Snapshot] {
        read { book in
            book.limitedAccounts.compactMap { name in
                book.limiter(name).map {
                    Snapshot(account: name, share: $0.share, ratePerSecond: $0.rate, usedToday: $0.usedToday, dailyBudget: $0.dailyBudget)
                }
            }
        }
    }
}
