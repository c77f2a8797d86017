import Waiting

/// When to try a send again: `Backoff`'s schedule with full jitter, bounded by attempts and a
/// deadline. A pure value: the caller waits on its own clock.
public struct RetryPolicy: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// How long one request may keep retrying, from its first attempt.
    public var deadline: Duration

    public init(
        maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(30),
        deadline: Duration = .seconds(120)
    ) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.deadline = deadline
    }

    /// The wait before attempt `attempt + 1`, or nil when the request should give up.
    /// `random` is in 0..<1 (injected so tests are deterministic).
    public func backoff(afterAttempt attempt: Int, elapsed: Duration, random: Double) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let wait = Backoff(initial: initialBackoff, maximum: maxBackoff).delay(afterAttempt: attempt, random: random)
        guard elapsed + wait < deadline else { return nil }
        return wait
    }
}
