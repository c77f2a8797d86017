import DequeModule
import HeapModule

/// What one partition's records are doing, as a value: the send window, per-recipient order, the
/// records parked outside the window (waiting for their recipient's turn or a retry's backoff), the
/// bounded buffer behind Kafka pause/resume, and the commit point. It takes events (received,
/// attempt ended, published, timers due, revoked) and returns actions; the partition worker does
/// the I/O. Time is whatever instants the caller passes: tests drive it with a manual clock.
///
/// A record holds a send slot only while it is sending. Records of one order key (the recipient)
/// are sent strictly in offset order: a record waits, slot-free, until the one before it finished
/// (or gave up). A retry waits out its backoff slot-free too, keeping its key's turn. Sending also
/// waits while `publishingLimit` outcomes are not out yet: when Kafka cannot take them (an outage),
/// WeChat stops getting sends whose outcome nobody could record.
public struct PartitionScheduler<C: Clock>: Sendable {
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
        /// The buffer is full: stop fetching the partition.
        case pause
        /// The buffer has room again.
        case resume
    }

    private enum Phase: Equatable {
        case waitingForTurn
        case ready
        case sending
        case backingOff
        case publishing
    }

    private struct Record {
        var key: [UInt8]?
        var bytes: Int
        var phase: Phase
    }

    public let limits: Limits
    private var records: [Int64: Record] = [:]
    /// Per order key, its held records in offset order; the first one has the turn.
    private var turns: [[UInt8]: Deque<Int64>] = [:]
    /// Records that may send now; the oldest goes first (a record that waited for its recipient's
    /// turn or a backoff is not queued again behind everything read since, and the commit point,
    /// which cannot pass it anyway, moves sooner).
    private var ready = Heap<Int64>()
    private var retryAt: [Int64: C.Instant] = [:]
    private var progress = OffsetTracker()
    private var bytes = 0
    public private(set) var sending = 0
    /// Records whose outcome is being published.
    public private(set) var publishing = 0
    public private(set) var isPaused = false
    /// Revoked or shutting down: nothing new starts; in-flight attempts and publishes finish.
    public private(set) var isDraining = false

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Records held, in any state.
    public var held: Int { records.count }

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

    /// When the earliest backoff ends.
    public var nextTimer: C.Instant? { retryAt.values.min() }

    /// A record taken from Kafka. `key` orders it (its recipient); nil sends it without order.
    /// `needsSend` false: its outcome is known already (invalid, rejected by the rules), publish it.
    /// Returns false in `inOrder` when the offset went backwards and the commit point started over.
    public mutating func received(
        _ offset: Int64, key: [UInt8]?, bytes: Int, needsSend: Bool
    ) -> (actions: [Action], inOrder: Bool) {
        let inOrder = progress.received(offset)
        var record = Record(key: key, bytes: bytes, phase: needsSend ? .waitingForTurn : .publishing)
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
        var actions = fill()
        if !isPaused && (records.count >= limits.maxRecords || self.bytes >= limits.maxBytes) {
            isPaused = true
            actions.append(.pause)
        }
        return (actions, inOrder)
    }

    /// An attempt ended. With `retryAt` the record backs off until then (slot freed, turn kept);
    /// without, its outcome is final: the key's next record gets the turn, and the outcome is published.
    public mutating func attemptEnded(_ offset: Int64, retryAt instant: C.Instant? = nil) -> [Action] {
        guard let record = records[offset], record.phase == .sending else { return [] }
        sending -= 1
        if let instant {
            records[offset]?.phase = .backingOff
            retryAt[offset] = instant
        } else {
            records[offset]?.phase = .publishing
            publishing += 1
            passTurn(after: offset, key: record.key)
        }
        return fill()
    }

    /// The record's outcome (and DLQ copy) is acknowledged: it leaves the buffer.
    public mutating func published(_ offset: Int64) -> [Action] {
        guard let record = records.removeValue(forKey: offset) else { return [] }
        bytes -= record.bytes
        if record.phase == .publishing { publishing -= 1 }
        progress.completed(offset)
        var actions = fill()
        // Resume with a quarter free: enough to refill without pausing at once, little enough that a
        // partition is not held paused while one slow recipient drains its backlog.
        guard isPaused && records.count <= limits.maxRecords * 3 / 4 && bytes <= limits.maxBytes * 3 / 4 else { return actions }
        isPaused = false
        actions.append(.resume)
        return actions
    }

    /// Ends the backoffs of `offsets` at `now` (an operator cleared the wait they were parked for);
    /// `timersDue` then makes them ready.
    public mutating func endBackoffs(_ offsets: some Sequence<Int64>, at now: C.Instant) {
        for offset in offsets where retryAt[offset] != nil { retryAt[offset] = min(retryAt[offset]!, now) }
    }

    /// Backoffs that ended by `now` make their records ready again (ahead of newer records).
    public mutating func timersDue(at now: C.Instant) -> [Action] {
        let due = retryAt.filter { $0.value <= now }.keys
        for offset in due {
            retryAt[offset] = nil
            records[offset]?.phase = .ready
            ready.insert(offset)
        }
        return due.isEmpty ? [] : fill()
    }

    /// Revoke or shutdown: start nothing new. Parked records are not sent here; they stay below the
    /// commit point and go to the partition's next owner.
    public mutating func drain() {
        isDraining = true
        ready = Heap()
        retryAt.removeAll()
    }

    /// Sends ready records while slots are free.
    private mutating func fill() -> [Action] {
        guard !isDraining else { return [] }
        var actions: [Action] = []
        while sending < limits.window, sending + publishing < publishingLimit, let offset = ready.popMin() {
            records[offset]?.phase = .sending
            sending += 1
            actions.append(.send(offset))
        }
        return actions
    }

    private mutating func passTurn(after offset: Int64, key: [UInt8]?) {
        guard let key, var queue = turns[key] else { return }
        // Only the record holding the turn sends, so it is the first of its key.
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
}
