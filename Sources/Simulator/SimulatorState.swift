import Foundation

/// Everything the simulator remembers, guarded by one `Mutex` in `WeChatSimulator`.
/// Methods take `now` so nothing here sleeps or reads a clock twice.
struct SimulatorState {
    var configuration: SimulatorConfiguration
    var faults: SplitMix64
    var tokens: [String: IssuedToken] = [:]
    var apps: [String: AppUsage] = [:]
    var recentSends = DedupWindow()
    /// Every (openid, client_msg_id) ever delivered, to count real duplicates after the window.
    var deliveredKeys: Set<String> = []
    /// WeChat's msgids are large and increasing; start somewhere that looks like one.
    var lastMsgID: Int64 = 2_000_000_000
    var stats = SimulatorStats()
    /// Send requests being answered now (a request counts from its plan to its answer).
    var sendsInProgress = 0

    init(configuration: SimulatorConfiguration) {
        self.configuration = configuration
        self.faults = SplitMix64(seed: configuration.seed ?? UInt64.random(in: .min ... .max))
    }
}

/// An access token the simulator handed out.
struct IssuedToken {
    enum Kind { case classic, stable }

    var appID: String
    var kind: Kind
    var expiresAt: ContinuousClock.Instant
    /// From this instant the token answers 40001 (evicted by a newer classic token, force-refreshed,
    /// or invalidated by the operator).
    var revokedAt: ContinuousClock.Instant?
}

/// Per-appid token pointers and quota counters.
struct AppUsage {
    var classicToken: String?
    var stableToken: String?
    var dayStartedAt: ContinuousClock.Instant?
    var deliveredToday = 0
    var minute: Int64 = 0
    var deliveredThisMinute = 0
    /// The per-second bucket (`SimulatorConfiguration.rateLimit`).
    var rateTokens: Double?
    var rateRefilledAt: ContinuousClock.Instant?
}

/// Which (touser, client_msg_id) pairs were sent recently and with which msgid.
/// Expiry is amortised O(1): entries leave in arrival order from a queue.
struct DedupWindow {
    private var msgids: [String: (msgid: Int64, at: ContinuousClock.Instant)] = [:]
    private var arrivals: [(key: String, at: ContinuousClock.Instant)] = []
    private var head = 0

    mutating func msgid(for key: String, now: ContinuousClock.Instant, window: Duration) -> Int64? {
        expire(before: now - window)
        return msgids[key]?.msgid
    }

    mutating func remember(_ key: String, msgid: Int64, at now: ContinuousClock.Instant) {
        msgids[key] = (msgid, now)
        arrivals.append((key, now))
    }

    private mutating func expire(before cutoff: ContinuousClock.Instant) {
        while head < arrivals.count, arrivals[head].at <= cutoff {
            let (key, at) = arrivals[head]
            if msgids[key]?.at == at {
                msgids[key] = nil
            }
            head += 1
        }
        if head > 1024, head * 2 > arrivals.count {
            arrivals.removeFirst(head)
            head = 0
        }
    }
}
