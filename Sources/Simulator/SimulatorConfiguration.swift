/// How the simulated WeChat API behaves: accounts, latency, injected faults, token life and quotas.
/// Every field can be changed mid-run with `WeChatSimulator.updateConfiguration`.
public struct SimulatorConfiguration: Sendable {
    /// appid -> secret.
    public var accounts: [String: String]
    /// Added to every send request, plus a uniform random share of `latencyJitter`.
    public var latency: Duration
    public var latencyJitter: Duration
    /// Fraction of sends answered errcode -1 (system busy).
    public var busyFraction: Double
    /// Fraction of sends answered HTTP 500.
    public var http500Fraction: Double
    /// Fraction of sends that hang `hangDuration` before being processed and answered normally,
    /// so a client that timed out may still have had its message delivered.
    public var timeoutFraction: Double
    public var hangDuration: Duration
    /// Fraction of sends answered 40001 even with a valid token.
    public var tokenInvalidationFraction: Double
    public var tokenLifetime: Duration
    /// How long an app's previous classic token stays valid after a new `/cgi-bin/token` fetch.
    public var classicOverlap: Duration
    /// How long a (touser, client_msg_id) pair is de-duplicated.
    public var dedupWindow: Duration
    /// Deliveries per appid per 24 hours, all kinds together; beyond it sends get 45009.
    public var dailyQuota: Int
    /// Deliveries per appid per wall-clock minute; beyond it sends get 45011. nil: no limit.
    public var perMinuteLimit: Int?
    /// Deliveries per appid per second, as a token bucket (`burst` at once, refilled at
    /// `perSecond`); beyond it sends get 45011. nil: no limit.
    public var rateLimit: RateLimit?
    /// Makes fault injection and jitter deterministic when set.
    public var seed: UInt64?
    /// An outage: every WeChat endpoint answers HTTP 503 at once (the stand-in for "down").
    public var unavailable = false
    /// Delivery receipts to a callback URL after each successful template send; nil: none.
    public var receipts: ReceiptCallbacks?
    /// The listen backlog of the threaded stand-in (Harness), when that one answers instead:
    /// Python's default (5) unless set, as an untuned server has it.
    public var threadedBacklog = 5
    /// The accounts' template library; nil: none is kept (the library calls answer 48001, and
    /// any template id but a `bad…` one is accepted).
    public var templates: [SimulatedTemplate]?

    public init(
        accounts: [String: String] = ["wxdemo": "demo-secret"],
        latency: Duration = .zero,
        latencyJitter: Duration = .zero,
        busyFraction: Double = 0,
        http500Fraction: Double = 0,
        timeoutFraction: Double = 0,
        hangDuration: Duration = .seconds(30),
        tokenInvalidationFraction: Double = 0,
        tokenLifetime: Duration = .seconds(7200),
        classicOverlap: Duration = .seconds(300),
        dedupWindow: Duration = .seconds(600),
        dailyQuota: Int = 100_000,
        perMinuteLimit: Int? = nil,
        seed: UInt64? = nil
    ) {
        self.accounts = accounts
        self.latency = latency
        self.latencyJitter = latencyJitter
        self.busyFraction = busyFraction
        self.http500Fraction = http500Fraction
        self.timeoutFraction = timeoutFraction
        self.hangDuration = hangDuration
        self.tokenInvalidationFraction = tokenInvalidationFraction
        self.tokenLifetime = tokenLifetime
        self.classicOverlap = classicOverlap
        self.dedupWindow = dedupWindow
        self.dailyQuota = dailyQuota
        self.perMinuteLimit = perMinuteLimit
        self.seed = seed
    }
}

/// The simulator's per-account send rate.
public struct RateLimit: Sendable, Equatable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = perSecond
        self.burst = burst
    }
}
