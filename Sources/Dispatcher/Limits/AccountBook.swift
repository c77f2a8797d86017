import Foundation
import Kafka
import Logging

/// The process's account limits as one value over a `Clock`: each account's limiter (rate, daily
/// quota, priorities) and circuit breaker, this instance's share of them, and its demand (records
/// parked for them, per priority and per worker). An instance's share is its share of the request
/// partitions (assigned here / all of them), or what the demand exchange gave it: with every
/// instance doing the same, the group holds the account-wide limit without a central service.
///
/// What a change means for others comes out as events (`takeEvents`): a `Change` for the workers
/// (the reservations of the account's parked records are void; they ask again), and log lines. `SendLimits` keeps the book behind its lock and delivers the events outside it.
public struct AccountBook<C: Clock>: Sendable where C.Duration == Duration {
    /// An account's limits changed under parked records.
    public struct Change: Sendable, Hashable {
        public var account: String
        /// The account's limit epoch now: a reservation made in an older one is void.
        public var epoch: Int
        /// An operator cleared the daily quota wait: records backing off after 45009 go too.
        public var quotaReset: Bool

        public init(account: String, epoch: Int, quotaReset: Bool) {
            (self.account, self.epoch, self.quotaReset) = (account, epoch, quotaReset)
        }
    }

    public enum Event: Sendable, Equatable {
        /// For every worker: one may have parked records it has not counted yet.
        case change(Change)
        case log(Logger.Level, String)
        /// The share in force, numbered: a line older than one already logged is stale.
        case share(String, number: Int)
    }

    private var accounts: [String: AccountLimiter<C>]
    private var breakers: [String: CircuitBreaker<C>]
    private var assigned: Set<TopicPartition> = []
    /// Per request topic, its partitions.
    private var totals: [String: Int] = [:]
    /// Per account, how often its limits changed under parked records.
    private var epochs: [String: Int] = [:]
    /// Per account and priority, the records parked here for its limits (this instance's demand).
    private var parked: [String: [Int: Int]] = [:]
    /// Per account, the share the demand exchange gave this instance (nil: the partition share).
    private var exchanged: [String: Double] = [:]
    private var events: [Event] = []
    private var shareLines = 0

    public init(
        limits: [String: AccountLimits], breakers: [String] = [], breaker: CircuitBreaker<C>.Settings = .init(), minimumShare: Double = 0.1
    ) {
        accounts = limits.mapValues { AccountLimiter(limits: $0, minimumShare: minimumShare) }
        self.breakers = Dictionary(uniqueKeysWithValues: breakers.map { ($0, CircuitBreaker(settings: breaker)) })
    }

    /// The events since the last call, oldest first.
    public mutating func takeEvents() -> [Event] {
        defer { events.removeAll() }
        return events
    }

    /// Some account has a rate or a quota, so shares matter (they need the topic's partition count).
    public var hasLimits: Bool { !accounts.isEmpty }

    /// The accounts that have a rate or a quota.
    public var limitedAccounts: [String] { accounts.keys.sorted() }

    public func limiter(_ account: String) -> AccountLimiter<C>? { accounts[account] }

    /// Per account (every one): its circuit is open or probing (sends held), or closed.
    public var circuitsOpen: [String: Bool] { breakers.mapValues { !$0.isClosed } }

    /// The account's limit epoch (how often they changed under parked records).
    public func epoch(of account: String) -> Int { epochs[account] ?? 0 }

    /// Asks for one send of `account` now, for a record of `priority`: its circuit first (an open
    /// one holds every send but the probe), then its rate and quota (`.go` for an account without
    /// limits). `holding`: the epoch of the reservation the record waited for, if any: still
    /// valid, it goes without being charged again; void, it asks anew. Returns the epoch a
    /// reservation made now belongs to.
    public mutating func reserve(
        account: String, priority: Int, holding: Int?, now: C.Instant, date: Date
    ) -> (decision: AccountLimiter<C>.Decision, epoch: Int) {
        switch breakers[account]?.permit(now: now) ?? .go {
        case .wait(let until): return (.wait(until: until, reserved: false), 0)
        case .probe: return (.go, 0)
        case .go: break
        }
        guard accounts[account] != nil else { return (.go, 0) }
        if let holding, holding == epoch(of: account) { return (.go, holding) }
        let (decision, splitChanged) = accounts[account]!.reserve(
            now: now, date: date, priority: priority, parked: parkedPriorities(account))
        // The limiter forgot the reservations made at the old split (not this one's).
        if splitChanged { splitMoved(account) }
        return (decision, epoch(of: account))
    }

    /// Records of `account` and `priority` parked for its limits (+) or no longer (-). A priority
    /// whose demand ended gives its part of the rate back (its records no longer ask).
    public mutating func parked(_ account: String, priority: Int, _ delta: Int, now: C.Instant) {
        parked[account, default: [:]][priority, default: 0] += delta
        guard delta < 0, accounts[account] != nil, accounts[account]!.resplit(now: now, parked: parkedPriorities(account)) else { return }
        splitMoved(account)
    }

    /// This instance's demand for `account`: its records parked for the account's limits now.
    public func demand(of account: String) -> Int { max(0, (parked[account] ?? [:]).values.reduce(0, +)) }

    /// The account's API answered: `healthy` unless a transport error, -1 or an HTTP 5xx.
    public mutating func answered(account: String, healthy: Bool, now: C.Instant) {
        switch breakers[account]?.record(healthy: healthy, now: now) ?? nil {
        case .open(let until, _)?:
            let seconds = String(format: "%.1f", now.duration(to: until).seconds)
            events.append(
                .log(
                    .warning,
                    "account \(account): circuit open, WeChat keeps failing (transport, -1, 5xx); sends held for \(seconds) s, then one probe"
                ))
        case .closed?:
            events.append(.log(.notice, "account \(account): circuit closed, WeChat answers again; sending resumes"))
        default:
            break
        }
    }

    /// WeChat answered 45009 for `account`: its records wait for the reset; returns when that is.
    public mutating func quotaExhausted(account: String, date: Date) -> Date {
        let reset = accounts[account]?.quotaExhausted(date: date) ?? QuotaReset.shanghaiMidnight.next(after: date)
        events.append(.log(.warning, "account \(account): WeChat's daily quota is used up (45009); its sends wait until \(reset)"))
        return reset
    }

    /// An operator cleared `account`'s daily quota wait (on this instance): the count starts over
    /// and every worker's records waiting for the quota try again (a 45009 parks them again).
    public mutating func resetQuota(account: String, now: C.Instant) {
        accounts[account]?.resetQuota()
        changed(account, now: now, quotaReset: true)
        events.append(.log(.notice, "account \(account): daily quota wait cleared by an operator; waiting sends try again"))
    }

    /// WeChat's `quota/get` for `account`: its daily limit and the account's use today. A larger
    /// budget (a quota raised at WeChat): records parked for the quota ask again.
    public mutating func calibrate(account: String, dailyLimit: Int, usedToday: Int, now: C.Instant, date: Date) {
        let before = accounts[account]?.dailyBudget
        accounts[account]?.calibrate(dailyLimit: dailyLimit, usedToday: usedToday, date: date)
        let after = accounts[account]?.dailyBudget
        if (after ?? .max) > (before ?? .max) { changed(account, now: now) }
        events.append(
            .log(
                .info,
                "account \(account): WeChat's daily quota \(dailyLimit), used today \(usedToday); this instance's budget \(after.map(String.init) ?? "none")"
            ))
    }

    /// Assigned request partitions here / all of them, over every request topic (0 with none assigned).
    public var partitionShare: Double {
        assigned.isEmpty ? 0 : Double(assigned.count) / Double(max(totalPartitions, assigned.count))
    }

    /// The share the demand exchange computed for `account` (nil: back to the partition share).
    /// A share that went down at all, or up by more than 5 points, voids the parked records'
    /// reservations so they wait at the new rate: reservations made at a higher rate would
    /// otherwise keep their times and overrun the account while the others take the freed share.
    public mutating func setExchangedShare(_ share: Double?, for account: String, now: C.Instant) {
        guard let before = accounts[account]?.share else { return }
        exchanged[account] = share
        let after = share ?? partitionShare
        accounts[account]!.setShare(after, now: now)
        if after < before || after - before > 0.05 { changed(account, now: now) }
    }

    /// A request partition started (`totals`: every request topic's partitions) or ended here.
    public mutating func partition(_ partition: TopicPartition, assigned isAssigned: Bool, totals: [String: Int], now: C.Instant) {
        if isAssigned { assigned.insert(partition) } else { assigned.remove(partition) }
        self.totals.merge(totals.filter { $0.value > 0 }) { $1 }
        guard !accounts.isEmpty, !assigned.isEmpty else { return }
        let share = partitionShare
        var lines: [String] = []
        for name in accounts.keys.sorted() {
            let before = accounts[name]!.share
            accounts[name]!.setShare(exchanged[name] ?? share, now: now)
            // A smaller share: what was reserved at the larger one asks again.
            if accounts[name]!.share < before { changed(name, now: now) }
            let limiter = accounts[name]!
            let rate = limiter.rate.map { String(format: "%.1f/s of %.1f/s", $0, limiter.limits.rate ?? 0) } ?? "no rate limit"
            let quota = limiter.dailyBudget.map { "daily quota \($0) of \(limiter.dailyQuota ?? 0)" } ?? "no daily quota"
            lines.append("\(name): \(rate), \(quota)")
        }
        shareLines += 1
        events.append(
            .share("limits: share \(assigned.count)/\(totalPartitions) partitions: \(lines.joined(separator: "; "))", number: shareLines))
    }

    private var totalPartitions: Int { max(1, totals.values.reduce(0, +)) }

    /// The priorities with records of `account` parked here.
    private func parkedPriorities(_ account: String) -> Set<Int> { Set((parked[account] ?? [:]).filter { $0.value > 0 }.keys) }

    /// The priorities' split of `account` moved (the limiter forgot the reservations already).
    private mutating func splitMoved(_ account: String) {
        let fractions = accounts[account]!.fractions.sorted { $0.key > $1.key }
        let split = fractions.map { "\($0.key): \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
        events.append(.log(.info, "limits: \(account) split by priority: \(split)"))
        changed(account, now: nil)
    }

    /// The account's parked reservations are void (forgotten by its limiter unless `now` is nil:
    /// it did so itself): a new epoch, announced to the workers with records waiting on the
    /// account. `SendLimits` knows them from the reservations themselves (made under its lock,
    /// with their epoch), not from the parks a worker counts once per loop turn: a record parked
    /// in the turn a change came would otherwise keep a void reservation and leave its slot unused.
    private mutating func changed(_ account: String, now: C.Instant?, quotaReset: Bool = false) {
        if let now { accounts[account]?.forgetReservations(now: now) }
        epochs[account, default: 0] += 1
        let change = Change(account: account, epoch: epochs[account]!, quotaReset: quotaReset)
        events.append(.change(change))
    }
}
