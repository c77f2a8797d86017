/// Per account: when WeChat keeps failing (transport errors, -1, HTTP 5xx), stop sending for a
/// while instead of spending every record's retries on an outage; then let one probe through
/// and resume when it succeeds. A value over a `Clock`.
///
/// Records held back by an open circuit make no attempt, so its time costs them no attempts.
public struct CircuitBreaker<C: Clock>: Sendable where C.Duration == Duration {
    public struct Settings: Sendable, Equatable {
        /// Failures in a row that open the circuit.
        public var threshold: Int
        /// How long it stays open the first time; doubled after each failed probe, up to `maxOpen`.
        public var open: Duration
        public var maxOpen: Duration
        /// A probe that has not answered by then (cancelled, lost) no longer blocks the next one.
        public var probeTimeout: Duration

        public init(
            threshold: Int = 20, open: Duration = .seconds(2), maxOpen: Duration = .seconds(10), probeTimeout: Duration = .seconds(15)
        ) {
            self.threshold = max(1, threshold)
            self.open = open
            self.maxOpen = max(open, maxOpen)
            self.probeTimeout = probeTimeout
        }
    }

    public enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: C.Instant, next: Duration)
        case probing(since: C.Instant, next: Duration)
    }

    public enum Permit: Sendable, Equatable {
        case go
        /// The one send that tests whether the account's API is back.
        case probe
        case wait(until: C.Instant)
    }

    public let settings: Settings
    public private(set) var state = State.closed(failures: 0)

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    public mutating func permit(now: C.Instant) -> Permit {
        switch state {
        case .closed:
            return .go
        case .open(let until, let next):
            guard now >= until else { return .wait(until: until) }
            state = .probing(since: now, next: next)
            return .probe
        case .probing(let since, let next):
            let stale = since.advanced(by: settings.probeTimeout)
            guard now >= stale else { return .wait(until: min(stale, now.advanced(by: .seconds(1)))) }
            state = .probing(since: now, next: next)
            return .probe
        }
    }

    /// An answer from the account's API: `healthy` unless it was a transport error, -1 or a 5xx.
    /// Returns the new state when it changed.
    @discardableResult
    public mutating func record(healthy: Bool, now: C.Instant) -> State? {
        let before = state
        switch state {
        case .closed(let failures):
            if healthy {
                state = .closed(failures: 0)
            } else if failures + 1 >= settings.threshold {
                state = .open(until: now.advanced(by: settings.open), next: min(settings.open * 2, settings.maxOpen))
            } else {
                state = .closed(failures: failures + 1)
            }
        case .open:
            break  // sends that started before it opened
        case .probing(_, let next):
            state = healthy ? .closed(failures: 0) : .open(until: now.advanced(by: next), next: min(next * 2, settings.maxOpen))
        }
        let changed: Bool
        switch (before, state) {
        case (.closed, .closed): changed = false
        default: changed = before != state
        }
        return changed ? state : nil
    }
}
