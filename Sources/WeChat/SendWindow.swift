/// How many sends may be in flight to one WeChat host, found the way TCP finds its window: it
/// grows with the answers, by one per answer at first (doubling each round trip) and by one per
/// round trip after a failure or a hold, holds while answers are much slower than the fastest,
/// and halves when a good part of its sends fail without a usable answer.
///
/// Why: a process may hold hundreds of sends at once (partitions × `in_flight`). Started all at
/// once, each on a new connection, they flood the server's accept queue: a server with a small
/// backlog (Python's default is 5) drops the SYNs and handshake ACKs beyond it, so connects wait
/// seconds, and requests written to connections it never took wait out the response timeout or
/// are reset: their fate unknown. A window that opens with the answers opens at most one new
/// connection per answer, at the pace the server serves.
///
/// Round trips only hold it: answers four times slower than the fastest lately, plus 50 ms, say
/// the server queues (a thread-per-connection server starves its threads long before it fails),
/// so the window stops growing. They never shrink it: a server that writes its answer in two
/// pieces meets the client's delayed ACK and answers 40 ms late whatever its load, and this
/// process's own CPU adds to them, so a finer reading would mistake those for a queue. Failures
/// shrink it.
///
/// A value over a clock's instants: `SendGate` holds it behind a lock; tests drive it directly.
public struct SendWindow<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Sends allowed in flight now (fractional while it grows by less than one per answer).
    public private(set) var limit: Double
    public let minimum: Double
    public let maximum: Double
    /// Grows by one per answer until the first failure or hold.
    public private(set) var slowStart = true
    /// The answers' round trip, smoothed like TCP's (each new one weighs 1/8).
    public private(set) var smoothed: Duration?
    /// The fastest answer of this epoch and of the one before: it follows a lasting change of the
    /// server's own latency within two epochs.
    private var fastest: (current: Duration?, previous: Duration?, since: Instant?) = (nil, nil, nil)
    private var lastDecrease: Instant?

    public static var epoch: Duration { .seconds(10) }

    /// One overload fails many sends at once: the window halves once for them.
    public static var decreaseInterval: Duration { .milliseconds(250) }

    public init(initial: Int = 8, minimum: Int = 4, maximum: Int) {
        self.maximum = Double(max(maximum, 1))
        self.minimum = min(Double(max(minimum, 1)), self.maximum)
        limit = min(max(Double(initial), self.minimum), self.maximum)
    }

    /// Whole sends allowed now.
    public var permits: Int { Int(limit) }

    /// The round trip without a queue: the fastest answer of the last one or two epochs.
    public var baseline: Duration? {
        switch (fastest.current, fastest.previous) {
        case (let current?, let previous?): min(current, previous)
        case (let current, let previous): current ?? previous
        }
    }

    /// Answers this slow hold the window: the server queues.
    public var holdAbove: Duration? { baseline.map { $0 * 4 + .milliseconds(50) } }

    /// An answer after `roundTrip`, with `inFlight` sends out (this one included) when it came.
    public mutating func answered(after roundTrip: Duration, inFlight: Int, at now: Instant) {
        if let since = fastest.since, since.duration(to: now) >= Self.epoch {
            fastest = (nil, fastest.current, now)
        } else if fastest.since == nil {
            fastest.since = now
        }
        fastest.current = min(fastest.current ?? roundTrip, roundTrip)
        completed(at: now)
        let smoothed = self.smoothed.map { $0 + (roundTrip - $0) / 8 } ?? roundTrip
        self.smoothed = smoothed
        if let holdAbove, smoothed > holdAbove {
            slowStart = false
            return
        }
        // Only a window in use grows: an idle one has shown nothing about a bigger one.
        guard Double(inFlight) >= limit - 1 else { return }
        limit = min(maximum, limit + (slowStart ? 1 : 1 / limit))
    }

    /// A send that got no usable answer (a timeout, a reset, a refused connection, a 5xx, "system
    /// busy"). The window halves when half or more of the sends of the last round (as many as it
    /// holds, at least 32) failed, once per `decreaseInterval`: an overload fails most sends at
    /// once, while a server that fails one send in six at random is no reason to send less.
    public mutating func failed(at now: Instant) {
        round.failed += 1
        completed(at: now)
    }

    /// Sends of the current round, and how many of them failed.
    private var round = (sends: 0, failed: 0)

    private mutating func completed(at now: Instant) {
        round.sends += 1
        guard round.sends >= max(permits, 32) else { return }
        defer { round = (0, 0) }
        guard round.failed * 2 >= round.sends else { return }
        slowStart = false
        if let last = lastDecrease, last.duration(to: now) < Self.decreaseInterval { return }
        lastDecrease = now
        limit = max(minimum, limit / 2)
    }
}
