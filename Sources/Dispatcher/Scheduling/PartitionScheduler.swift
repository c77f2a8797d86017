import DequeModule
import HeapModule

/// What one partition's records are doing, as a value: each held record (its item, its phase),
/// the send window, per-recipient order, the records parked outside the window, the bounded buffer
/// behind Kafka pause/resume, and the commit point. It takes events (received, attempt ended,
/// published, timers due, woken, drained) and returns actions; the partition worker does the I/O.
/// Time is whatever instants the caller passes: tests drive it with a manual clock.
///
/// A record holds a send slot only while it is sending. Records of one order key (the recipient)
/// are sent strictly in offset order: a record waits, slot-free, until the one before it finished
/// (or gave up). Before a record takes a slot, the `gate` decides: go, park until an instant (a
/// throttle, an account limit; it keeps its key's turn, like a retry's backoff), or reject. Only
/// a `go` is an attempt. Sending also waits while `publishingLimit` outcomes are not out yet: when
/// Kafka cannot take them (an outage), WeChat stops getting sends whose outcome nobody could record.
public struct PartitionScheduler<Gate: RecordGate>: Sendable {
    public typealias Instant = Gate.Instant
    public typealias Item = Gate.Item

    public struct Limits: Sendable, Equatable {
        /// Records sending at once.
        public var window: Int
        /// Records held at once, in any state (parked, sending, publishing their outcome).
        public var maxRecords: Int
        /// Bytes of those records (their Kafka values), the buffer's other bound.
        public var maxBytes: Int

        public init(window: Int, maxRecords: Int, maxBytes: Int) {
            self.window = max(1, window)
            self.maxRecords = max(self.window, maxRecords)
            self.maxBytes = max(1, maxBytes)
        }
    }

    public enum Action: Sendable, Equatable {
        /// Start one attempt of this record's send.
        case send(Int64)
        /// The gate refused this record: publish its final outcome.
        case reject(Int64, reason: String)
        /// The buffer is full: stop fetching the partition.
        case pause
        /// The buffer has room again.
        case resume
    }

    private enum Phase: Equatable {
        case waitingForTurn
        case ready
        case sending
        case parked(WaitReason, until: Instant)
        case publishing
    }

    private struct Record {
        var item: Item
        var key: [UInt8]?
        var bytes: Int
        var phase: Phase
    }

    private struct Timer: Comparable {
        var instant: Instant
        var offset: Int64
        static func < (a: Timer, b: Timer) -> Bool { (a.instant, a.offset) < (b.instant, b.offset) }
    }

    public let limits: Limits
    /// Consulted before each attempt; its own state (a throttle's counts) lives in it.
    public var gate: Gate
    private var records: [Int64: Record] = [:]
    /// Per order key, its held records in offset order; the first one has the turn.
    private var turns: [[UInt8]: Deque<Int64>] = [:]
    /// Records that may send now; the oldest goes first (a record that waited for its recipient's
    /// turn or a backoff is not queued again behind everything read since, and the commit point,
    /// which cannot pass it anyway, moves sooner).
    private var ready = Heap<Int64>()
    /// When parked records may go; an entry whose record is no longer parked until then is stale.
    private var timers = Heap<Timer>()
    private var progress = OffsetTracker()
    private var bytes = 0
    public private(set) var sending = 0
    /// Records whose outcome is being published.
    public private(set) var publishing = 0
    /// Parked records by what they wait for.
    public private(set) var waiting: [WaitReason: Int] = [:]
    public private(set) var isPaused = false
    /// Revoked or shutting down: nothing new starts; in-flight attempts and publishes finish.
    public private(set) var isDraining = false

    public init(limits: Limits, gate: Gate) {
        self.limits = limits
        self.gate = gate
    }

    /// Records held, in any state.
    public var held: Int { records.count }

    /// The item of a held record.
    public func item(_ offset: Int64) -> Item? { records[offset]?.item }

    /// How many more records may be taken from Kafka now.
    public var room: Int {
        guard !isDraining, bytes < limits.maxBytes else { return 0 }
        return max(0, limits.maxRecords - records.count)
    }

    /// Nothing is sending or publishing: a drain may end (parked records go to the next owner).
    public var isIdle: Bool { sending == 0 && publishing == 0 }

    /// Outcomes not out yet beyond which nothing new is sent: four windows (publishing takes
    /// milliseconds, a transaction's commit a little longer).
    public var publishingLimit: Int { limits.window * 4 }

    /// The next commit point, and the offsets done above it (they are skipped after a restart).
    public var committable: Int64? { progress.committable }
    public var doneAboveCommitPoint: [Int64] { progress.doneAboveCommitPoint }
    public var commitProgress: CommitProgress? { committable.map { CommitProgress(offset: $0, doneAbove: doneAboveCommitPoint) } }

    /// When the earliest parked record may go.
    public var nextTimer: Instant? { timers.min?.instant }

    /// A record taken from Kafka. `key` orders it (its recipient); nil sends it without order.
    /// `needsSend` false: its outcome is known already (invalid, rejected by the rules), publish it.
    /// Returns false in `inOrder` when the offset went backwards and the commit point started over.
    public mutating func received(
        _ offset: Int64, item: Item, key: [UInt8]?, bytes: Int, needsSend: Bool, now: Instant
    ) -> (actions: [Action], inOrder: Bool) {
        let inOrder = progress.received(offset)
        var record = Record(item: item, key: key, bytes: bytes, phase: needsSend ? .waitingForTurn : .publishing)
        if !needsSend { publishing += 1 }
        if needsSend {
            if let key {
                turns[key, default: []].append(offset)
                if turns[key]?.count == 1 { record.phase = .ready }
            } else {
                record.phase = .ready
            }
            if record.phase == .ready { ready.insert(offset) }
        }
        records[offset] = record
        self.bytes += bytes
        var actions = fill(now: now)
        if !isPaused && (records.count >= limits.maxRecords || self.bytes >= limits.maxBytes) {
            isPaused = true
            actions.append(.pause)
        }
        return (actions, inOrder)
    }

    /// An attempt ended. With `retryAt` the record backs off until then (slot freed, turn kept);
    /// without, its outcome is final: the key's next record gets the turn, and the outcome is
    /// published. `item` replaces the record's item (what the attempt learnt).
    public mutating func attemptEnded(_ offset: Int64, item: Item? = nil, retryAt instant: Instant? = nil, now: Instant) -> [Action] {
        guard var record = records[offset], record.phase == .sending else { return [] }
        sending -= 1
        if let item { record.item = item }
        records[offset] = record
        if let instant {
            park(offset, .retry, until: instant)
        } else {
            finish(offset)
        }
        return fill(now: now)
    }

    /// The record's outcome (and DLQ copy) is acknowledged: it leaves the buffer.
    public mutating func published(_ offset: Int64, now: Instant) -> [Action] {
        guard let record = records.removeValue(forKey: offset) else { return [] }
        bytes -= record.bytes
        if record.phase == .publishing { publishing -= 1 }
        progress.completed(offset)
        var actions = fill(now: now)
        // Resume with a quarter free: enough to refill without pausing at once, little enough that a
        // partition is not held paused while one slow recipient drains its backlog.
        guard isPaused && records.count <= limits.maxRecords * 3 / 4 && bytes <= limits.maxBytes * 3 / 4 else { return actions }
        isPaused = false
        actions.append(.resume)
        return actions
    }

    /// Parked records for which `shouldWake` holds may go at `now` (what they waited for changed:
    /// an account's limits, an operator's quota reset); `timersDue` then hands them to the gate.
    public mutating func wake(at now: Instant, where shouldWake: (Item, WaitReason) -> Bool) {
        guard !isDraining else { return }
        for (offset, record) in records {
            guard case .parked(let reason, let until) = record.phase, until > now, shouldWake(record.item, reason) else { continue }
            records[offset]?.phase = .parked(reason, until: now)
            timers.insert(Timer(instant: now, offset: offset))
        }
    }

    /// Parked records whose time came are ready again (ahead of newer records), then the gate is
    /// asked for them.
    public mutating func timersDue(at now: Instant) -> [Action] {
        var due = false
        while let timer = timers.min, timer.instant <= now {
            timers.removeMin()
            guard case .parked(let reason, let until) = records[timer.offset]?.phase, until == timer.instant else { continue }
            waiting[reason] = waiting[reason]! > 1 ? waiting[reason]! - 1 : nil
            records[timer.offset]?.phase = .ready
            ready.insert(timer.offset)
            due = true
        }
        dropStaleTimers()
        return due ? fill(now: now) : []
    }

    /// Revoke or shutdown: start nothing new. Parked records are not sent here; they stay below the
    /// commit point and go to the partition's next owner.
    public mutating func drain() {
        isDraining = true
        ready = Heap()
        timers = Heap()
        waiting = [:]
    }

    /// Sends ready records while slots are free, as far as the gate lets them.
    private mutating func fill(now: Instant) -> [Action] {
        guard !isDraining else { return [] }
        var actions: [Action] = []
        while sending < limits.window, sending + publishing < publishingLimit, let offset = ready.popMin() {
            guard var item = records[offset]?.item else { continue }
            let decision = gate.admit(&item, now: now)
            records[offset]?.item = item
            switch decision {
            case .go:
                records[offset]?.phase = .sending
                sending += 1
                actions.append(.send(offset))
            case .park(let until, let reason):
                park(offset, reason, until: until)
            case .reject(let reason):
                finish(offset)
                actions.append(.reject(offset, reason: reason))
            }
        }
        return actions
    }

    private mutating func park(_ offset: Int64, _ reason: WaitReason, until: Instant) {
        records[offset]?.phase = .parked(reason, until: until)
        waiting[reason, default: 0] += 1
        timers.insert(Timer(instant: until, offset: offset))
    }

    /// The record's outcome is final (sent, failed, rejected): it publishes, and its key's next
    /// record gets the turn.
    private mutating func finish(_ offset: Int64) {
        records[offset]?.phase = .publishing
        publishing += 1
        guard let key = records[offset]?.key, var queue = turns[key] else { return }
        // Only the record holding the turn gets this far, so it is the first of its key.
        if queue.first == offset { queue.removeFirst() }
        if let next = queue.first {
            turns[key] = queue
            if records[next]?.phase == .waitingForTurn {
                records[next]?.phase = .ready
                ready.insert(next)
            }
        } else {
            turns[key] = nil
        }
    }

    /// Heap entries of records woken or gone, so `nextTimer` is a real one.
    private mutating func dropStaleTimers() {
        while let timer = timers.min {
            if case .parked(_, let until) = records[timer.offset]?.phase, until == timer.instant { return }
            timers.removeMin()
        }
    }
}
