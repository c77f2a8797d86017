import Kafka

/// A partition worker's decisions as a value over its clock's instants; the worker does the I/O
/// around it and tests drive it with a manual clock. It holds the scheduler (the records), the
/// sent log's position, what was done before this worker started, and decides: which records
/// to skip, when a commit is due, when the loop must look again, when it stops (drained, drain
/// deadline passed, lost, cancelled, fatal) and what the parked records add to the gauges and to
/// the account demand.
struct PartitionLoop<Gate: RecordGate>: Sendable where Gate.Instant.Duration == Duration {
    typealias Instant = Gate.Instant

    enum Stop: Sendable { case drained, drainTimedOut, lost, cancelled, fatal }

    var scheduler: PartitionScheduler<Gate>
    var sentLog: SentLogState?
    /// Warned once per partition: records without a key lose their recipient's order.
    var warnedNullKey = false
    private(set) var stop: Stop?
    /// Set when the partition ends: in-flight work finishes by then or is cancelled.
    private(set) var drainDeadline: Instant?
    /// The group's commit point, as last committed (or found at start).
    private(set) var committed: CommitPoint?
    private(set) var commitInFlight = false
    /// The next commit of the group offset; nil when transactions commit progress, and while draining.
    private var nextCommit: Instant?
    private let commitInterval: Duration
    private let drainTimeout: Duration
    /// Offsets above the commit point done before (the commit's metadata).
    private var skip: Set<Int64>
    /// The parked records last reported by `waitingChanges`.
    private var counted: [WaitReason: Int] = [:]
    /// The sends in flight last reported by `sendsChanged`.
    private var reportedSending = 0

    /// `commitInterval` nil: progress is committed elsewhere (transactions), never by the loop.
    init(
        scheduler: PartitionScheduler<Gate>, committed: CommitPoint?, skip: Set<Int64>, sentLog: SentLogState?,
        commitInterval: Duration?, drainTimeout: Duration, now: Instant
    ) {
        self.scheduler = scheduler
        self.committed = committed
        self.skip = skip
        self.sentLog = sentLog
        self.commitInterval = commitInterval ?? .zero
        self.nextCommit = commitInterval.map { now.advanced(by: $0) }
        self.drainTimeout = drainTimeout
    }

    /// Whether this record was done before a restart or rebalance (its outcome is out): not again.
    mutating func wasDone(_ offset: Int64) -> Bool {
        skip.remove(offset) != nil || offset < committed?.offset ?? .min
    }

    /// The partition ended (revoked, lost, or the process stops): nothing new is sent from now.
    /// A lost or cancelled partition stops at once; otherwise in-flight work has `drainTimeout`.
    mutating func ended(lost: Bool, cancelled: Bool, now: Instant) {
        guard drainDeadline == nil else { return }
        drainDeadline = now.advanced(by: drainTimeout)
        nextCommit = nil
        scheduler.drain()
        if lost { stop = .lost } else if cancelled { stop = .cancelled }
    }

    /// Publishing failed for good (the producer is fenced or broken).
    mutating func failed() { stop = .fatal }

    /// Whether a commit of the group offset should start now; the next one is scheduled.
    mutating func commitDue(now: Instant) -> Bool {
        guard let next = nextCommit, now >= next else { return false }
        nextCommit = now.advanced(by: commitInterval)
        return !commitInFlight
    }

    mutating func commitStarted() { commitInFlight = true }

    mutating func commitEnded(_ point: CommitPoint, succeeded: Bool) {
        commitInFlight = false
        if succeeded { committed = point }
    }

    /// After a loop turn while draining: stop once nothing is sending or publishing, or at the deadline.
    mutating func checkDrained(now: Instant) {
        guard let deadline = drainDeadline, stop == nil else { return }
        if scheduler.isIdle {
            stop = .drained
        } else if now >= deadline {
            stop = .drainTimedOut
        }
    }

    /// When the loop must look again if nothing else wakes it: a parked record's instant, the
    /// drain deadline or the next commit.
    var nextDeadline: Instant? { [scheduler.nextTimer, drainDeadline, nextCommit].compactMap { $0 }.min() }

    /// The progress to commit or offer: the scheduler's, with the sent log's floor.
    mutating func progress() -> CommitProgress? {
        guard var progress = scheduler.commitProgress else { return nil }
        progress.sentLogFloor = sentLog?.floor(committed: progress.offset)
        return progress
    }

    /// The position to commit now, if it moved since the last commit.
    mutating func commitPoint() -> CommitPoint? {
        let point = progress()?.point
        return point == committed ? nil : point
    }

    /// The sends in flight, when they changed since the last call or `oneEnded` (for the
    /// stall check); nil when there is nothing new to tell.
    mutating func sendsChanged(oneEnded: Bool) -> Int? {
        guard oneEnded || scheduler.sending != reportedSending else { return nil }
        reportedSending = scheduler.sending
        return reportedSending
    }

    /// How many more (or fewer) records wait for each reason since the last call.
    mutating func waitingChanges() -> [WaitReason: Int] {
        let now = scheduler.waiting
        guard now != counted else { return [:] }
        var changes: [WaitReason: Int] = [:]
        for reason in Set(now.keys).union(counted.keys) {
            let delta = (now[reason] ?? 0) - (counted[reason] ?? 0)
            if delta != 0 { changes[reason] = delta }
        }
        counted = now
        return changes
    }
}
