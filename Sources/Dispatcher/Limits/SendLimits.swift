import Foundation
import Kafka
import Logging
import Synchronization
import Waiting

/// The process's account limiters and circuit breakers, shared by its partition workers. An
/// instance's share of each account's limits is its share of the request partitions (assigned
/// here / all of them), recomputed whenever a partition starts or ends here: with every instance
/// doing the same, the group as a whole holds the account-wide limit without a central service.
public final class SendLimits: Sendable {
    private struct State {
        var accounts: [String: AccountLimiter<ContinuousClock>]
        var breakers: [String: CircuitBreaker<ContinuousClock>]
        var assigned: Set<TopicPartition> = []
        /// Per request topic, its partitions.
        var totals: [String: Int] = [:]
        var totalPartitions: Int { max(1, totals.values.reduce(0, +)) }
        /// Per account, how often its limits changed under parked records (an operator's quota
        /// reset, a new share from the demand exchange); workers wake its parked records when it moves.
        var changes: [String: Int] = [:]
        /// Per account, the operator quota resets among those changes (they wake 45009 backoffs too).
        var quotaResets: [String: Int] = [:]
        var workers: [ObjectIdentifier: Wakeup] = [:]
        /// Per account and priority, the records parked here waiting for its rate or quota (this
        /// instance's demand).
        var parked: [String: [Int: Int]] = [:]
        /// Per account, the share the demand exchange gave this instance (nil: the partition share).
        var exchanged: [String: Double] = [:]
    }

    private let state: Mutex<State>
    private let logger: Logger
    /// Some account has a rate or a quota, so shares matter (they need the topic's partition count).
    public let hasLimits: Bool

    /// `limits`: account name → its limits, for the accounts that have some; `breakers`: every
    /// account's name, each getting a circuit breaker with `breaker` settings.
    /// `minimumShare`: what lower-priority request topics keep of a bound rate (`AccountLimiter`).
    public init(
        limits: [String: AccountLimits], breakers: [String] = [], breaker: CircuitBreaker<ContinuousClock>.Settings = .init(),
        minimumShare: Double = 0.1, logger: Logger
    ) {
        state = Mutex(
            State(
                accounts: limits.mapValues { AccountLimiter(limits: $0, minimumShare: minimumShare) },
                breakers: Dictionary(uniqueKeysWithValues: breakers.map { ($0, CircuitBreaker(settings: breaker)) })))
        self.logger = logger
        hasLimits = !limits.isEmpty
    }

    /// Asks for one send of `account` now, for a record of `priority`: its circuit first (an open
    /// one holds every send but the probe), then its rate and quota (`.go` for an account without
    /// limits). When the priorities' split of the rate moved, the parked records ask again.
    /// `epoch`: the account's limit changes so far; a reservation made in an older one is void.
    /// `holding`: the epoch of the reservation the record waited for, if any: still valid, it goes
    /// without being charged again; void (the limits changed since), it asks anew.
    public func reserve(
        account: String, priority: Int = 0, holding: Int? = nil
    ) -> (decision: AccountLimiter<ContinuousClock>.Decision, epoch: Int) {
        let (decision, woken, epoch) = state.withLock { state -> (AccountLimiter<ContinuousClock>.Decision, [Wakeup], Int) in
            let now = ContinuousClock.now
            switch state.breakers[account]?.permit(now: now) ?? .go {
            case .wait(let until): return (.wait(until: until, reserved: false), [], 0)
            case .probe: return (.go, [], 0)
            case .go: break
            }
            guard state.accounts[account] != nil else { return (.go, [], 0) }
            if let holding, holding == state.changes[account] ?? 0 { return (.go, [], holding) }
            let (decision, splitChanged) = state.accounts[account]!.reserve(
                now: now, date: Date(), priority: priority, parked: Self.parkedPriorities(account, state))
            guard splitChanged else { return (decision, [], state.changes[account] ?? 0) }
            // The limiter forgot the reservations made at the old split (not this one's).
            let woken = splitMoved(account, &state)
            return (decision, woken, state.changes[account] ?? 0)
        }
        for wakeup in woken { wakeup.signal() }
        return (decision, epoch)
    }

    /// The priorities' split of `account` moved (the limiter forgot the reservations already):
    /// logged, and the parked records ask again.
    private func splitMoved(_ account: String, _ state: inout State) -> [Wakeup] {
        let fractions = state.accounts[account]!.fractions.sorted { $0.key > $1.key }
        logger.info(
            "limits: \(account) split by priority: \(fractions.map { "\($0.key): \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", "))"
        )
        return Self.changed(account, &state, forget: false)
    }

    /// The account's API answered: `healthy` unless a transport error, -1 or an HTTP 5xx.
    public func answered(account: String, healthy: Bool) {
        let changed = state.withLock { $0.breakers[account]?.record(healthy: healthy, now: .now) ?? nil }
        switch changed {
        case .open(let until, _)?:
            logger.warning(
                "account \(account): circuit open, WeChat keeps failing (transport, -1, 5xx); sends held for \(String(format: "%.1f", ContinuousClock.now.duration(to: until).seconds)) s, then one probe"
            )
        case .closed?:
            logger.notice("account \(account): circuit closed, WeChat answers again; sending resumes")
        default:
            break
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

    /// An operator cleared `account`'s daily quota wait (on this instance): the count starts over
    /// and the records waiting for the quota are woken to try again (a 45009 parks them again).
    public func resetQuota(account: String) {
        let workers = state.withLock { state in
            state.accounts[account]?.resetQuota()
            state.quotaResets[account, default: 0] += 1
            return Self.changed(account, &state)
        }
        logger.notice("account \(account): daily quota wait cleared by an operator; waiting sends try again")
        recalibrate.signal()
        for wakeup in workers { wakeup.signal() }
    }

    /// The account's parked records must ask again: their reservations are forgotten.
    private static func changed(_ account: String, _ state: inout State, forget: Bool = true) -> [Wakeup] {
        if forget { state.accounts[account]?.forgetReservations(now: .now) }
        state.changes[account, default: 0] += 1
        return Array(state.workers.values)
    }

    /// Limit changes per account so far (a worker compares with what it saw).
    public var limitChanges: [String: Int] { state.withLock { $0.changes } }

    /// Operator quota resets per account so far.
    public var quotaResets: [String: Int] { state.withLock { $0.quotaResets } }

    /// A worker's wake-up, signalled on a quota reset; nil `wakeup` removes it.
    func register(_ wakeup: Wakeup, as id: ObjectIdentifier, _ add: Bool) {
        state.withLock { $0.workers[id] = add ? wakeup : nil }
    }

    /// Per limited account, what this instance holds now: share, rate, quota used and budget.
    public struct Snapshot: Sendable {
        public var account: String
        public var share: Double
        public var ratePerSecond: Double?
        public var usedToday: Int
        public var dailyBudget: Int?
    }

    /// Per account (every one): its circuit is open or probing (sends held), or closed.
    public var circuitsOpen: [String: Bool] { state.withLock { $0.breakers.mapValues { !$0.isClosed } } }

    public var snapshot: [Snapshot] {
        state.withLock { state in
            state.accounts.sorted { $0.key < $1.key }.map { name, limiter in
                Snapshot(
                    account: name, share: limiter.share, ratePerSecond: limiter.rate, usedToday: limiter.usedToday,
                    dailyBudget: limiter.dailyBudget)
            }
        }
    }

    /// Signalled when the daily quota should be asked of WeChat again (an operator's reset).
    public let recalibrate = Wakeup()

    /// WeChat's `quota/get` for `account`: its daily limit and the account's use today.
    public func calibrate(account: String, dailyLimit: Int, usedToday: Int) {
        let (budget, workers) = state.withLock { state -> (Int?, [Wakeup]) in
            let before = state.accounts[account]?.dailyBudget
            state.accounts[account]?.calibrate(dailyLimit: dailyLimit, usedToday: usedToday, date: Date())
            let after = state.accounts[account]?.dailyBudget
            // A larger budget (a quota raised at WeChat): records parked for the quota ask again.
            return (after, (after ?? .max) > (before ?? .max) ? Self.changed(account, &state) : [])
        }
        for wakeup in workers { wakeup.signal() }
        logger.info(
            "account \(account): WeChat's daily quota \(dailyLimit), used today \(usedToday); this instance's budget \(budget.map(String.init) ?? "none")"
        )
    }

    /// Assigned request partitions here / all of them, over every request topic (0 with none assigned).
    private static func partitionShare(_ state: State) -> Double {
        state.assigned.isEmpty ? 0 : Double(state.assigned.count) / Double(max(state.totalPartitions, state.assigned.count))
    }

    public var partitionShare: Double { state.withLock { Self.partitionShare($0) } }

    /// The accounts that have a rate or a quota.
    public var limitedAccounts: [String] { state.withLock { $0.accounts.keys.sorted() } }

    /// A record of `account` and `priority` parked for its limits (+1) or no longer (-1). A
    /// priority whose demand ended gives its part of the rate back here (its records no longer ask).
    func parked(_ account: String, priority: Int, _ delta: Int) {
        let woken = state.withLock { state -> [Wakeup] in
            state.parked[account, default: [:]][priority, default: 0] += delta
            guard delta < 0, state.accounts[account] != nil else { return [] }
            guard state.accounts[account]!.resplit(now: .now, parked: Self.parkedPriorities(account, state)) else { return [] }
            return splitMoved(account, &state)
        }
        for wakeup in woken { wakeup.signal() }
    }

    /// The priorities with records of `account` parked here.
    private static func parkedPriorities(_ account: String, _ state: State) -> Set<Int> {
        Set((state.parked[account] ?? [:]).filter { $0.value > 0 }.keys)
    }

    /// This instance's demand for `account`: its records parked for the account's limits now.
    public func demand(of account: String) -> Int { state.withLock { max(0, ($0.parked[account] ?? [:]).values.reduce(0, +)) } }

    /// The share the demand exchange computed for `account` (nil: back to the partition share).
    /// A share that went down at all, or up by more than 5 points, wakes the parked records so they
    /// wait at the new rate: reservations made at a higher rate would otherwise keep their times
    /// and overrun the account while the others take the freed share.
    public func setExchangedShare(_ share: Double?, for account: String) {
        let workers = state.withLock { state -> [Wakeup] in
            guard let before = state.accounts[account]?.share else { return [] }
            state.exchanged[account] = share
            let after = share ?? Self.partitionShare(state)
            state.accounts[account]!.setShare(after, now: .now)
            return after < before || after - before > 0.05 ? Self.changed(account, &state) : []
        }
        for wakeup in workers { wakeup.signal() }
    }

    /// A request partition started (`totals`: every request topic's partitions) or ended here.
    public func partition(_ partition: TopicPartition, assigned: Bool, totals: [String: Int]) {
        // Logged under the lock, so the lines of workers starting together come in the order of
        // their shares: the last one is the share in force.
        let workers = state.withLock { state -> [Wakeup] in
            if assigned { state.assigned.insert(partition) } else { state.assigned.remove(partition) }
            state.totals.merge(totals.filter { $0.value > 0 }) { $1 }
            guard !state.accounts.isEmpty, !state.assigned.isEmpty else { return [] }
            let share = Self.partitionShare(state)
            var lines: [String] = []
            var woken: [Wakeup] = []
            for name in state.accounts.keys.sorted() {
                let before = state.accounts[name]!.share
                state.accounts[name]!.setShare(state.exchanged[name] ?? share, now: .now)
                // A smaller share: what was reserved at the larger one asks again.
                if state.accounts[name]!.share < before { woken = Self.changed(name, &state) }
                let limiter = state.accounts[name]!
                let rate = limiter.rate.map { String(format: "%.1f/s of %.1f/s", $0, limiter.limits.rate ?? 0) } ?? "no rate limit"
                let quota = limiter.dailyBudget.map { "daily quota \($0) of \(limiter.dailyQuota ?? 0)" } ?? "no daily quota"
                lines.append("\(name): \(rate), \(quota)")
            }
            logger.info("limits: share \(state.assigned.count)/\(state.totalPartitions) partitions: \(lines.joined(separator: "; "))")
            return woken
        }
        for wakeup in workers { wakeup.signal() }
    }
}
