/// The one backoff schedule of wxpush: the ceiling doubles per attempt from `initial` up to
/// `maximum`; with `jitter`, the wait is a random fraction of it (full jitter, so many waiters
/// that failed together do not come back together), never below `floor`.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var jitter: Bool
    public var floor: Duration

    public init(initial: Duration, maximum: Duration, jitter: Bool = true, floor: Duration = .zero) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.jitter = jitter
        self.floor = floor
    }

    /// The wait after failed attempt `attempt` (1 for the first). `random` is in 0..<1, injected
    /// so tests are deterministic; ignored without jitter.
    public func delay(afterAttempt attempt: Int, random: Double = Double.random(in: 0..<1)) -> Duration {
        let ceiling = min(initial * (1 << min(max(attempt - 1, 0), 30)), maximum)
        return max(floor, jitter ? ceiling * max(0, min(random, 1)) : ceiling)
    }

    /// Outcomes, the sent log and transactions published to Kafka again: soon, then up to 5 s.
    public static let publish = Backoff(initial: .milliseconds(100), maximum: .seconds(5), floor: .milliseconds(10))
    /// Brokers asked again for what a partition needs before it starts (its counts, its sent log).
    public static let brokers = Backoff(initial: .seconds(1), maximum: .seconds(10), jitter: false)
    /// A WeChat access token fetched again after a failure.
    public static let token = Backoff(initial: .seconds(1), maximum: .seconds(60), jitter: false)

    /// `body`'s answer, called again after each failure while `retryIf(error, delay)` says so (it
    /// may log), waiting that delay through `wait` in between. `wait` returns false to stop
    /// (cancelled, no longer needed): the answer is then nil. An error not retried is thrown.
    public func retrying<T, E: Error>(
        _ body: () async throws(E) -> T, retryIf: (E, _ delay: Duration) -> Bool, wait: (Duration) async -> Bool
    ) async throws(E) -> T? {
        var attempt = 0
        while true {
            let delay: Duration
            do throws(E) {
                return try await body()
            } catch {
                attempt += 1
                delay = self.delay(afterAttempt: attempt)
                guard retryIf(error, delay) else { throw error }
            }
            guard await wait(delay) else { return nil }
        }
    }
}

extension Clock where Duration == Swift.Duration {
    /// Sleeps `duration` on this clock: false if cancelled first (for `Backoff.retrying`).
    public func pause(_ duration: Duration) async -> Bool {
        do {
            try await sleep(for: duration)
            return true
        } catch {
            return false
        }
    }
}
