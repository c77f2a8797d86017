import Kafka
import Testing
import Waiting

@testable import Dispatcher

@Suite("A partition worker's loop: skips, commits, drain and stop, waiting counts, on a manual clock")
struct PartitionLoopTests {
    typealias Loop = PartitionLoop<ScriptedGate>
    let clock = ManualClock()

    func loop(
        committed: CommitPoint? = nil, skip: Set<Int64> = [], transactions: Bool = false,
        _ decisions: [String: GateDecision<ManualClock.Instant>] = [:]
    ) -> Loop {
        Loop(
            scheduler: .init(limits: .init(window: 4, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate(decisions: decisions)),
            committed: committed, skip: skip, sentLog: nil, commitInterval: transactions ? nil : .milliseconds(500),
            drainTimeout: .seconds(8), now: clock.now)
    }

    func receive(_ loop: inout Loop, _ offset: Int64, to recipient: String) -> [PartitionScheduler<ScriptedGate>.Action] {
        loop.scheduler.received(offset, item: "\(offset)", key: Array(recipient.utf8), bytes: 1, needsSend: true, now: clock.now)
            .actions
    }

    @Test("records below the commit point and those its metadata marks done are skipped, each once")
    func skipsWhatWasDone() {
        var loop = loop(committed: CommitPoint(offset: 10), skip: [12, 15])
        let done = [9, 10, 12, 12, 13, 15].map { loop.wasDone($0) }
        // The second 12: a redelivery after this worker took it is not skipped again.
        #expect(done == [true, false, true, false, false, true])
    }

    @Test("the group offset is committed on the interval, one commit at a time, and only when it moved")
    func commitsOnTheInterval() {
        var loop = loop()
        let dueAtStart = loop.commitDue(now: clock.now)
        #expect(!dueAtStart)
        #expect(loop.nextDeadline == clock.now.advanced(by: .milliseconds(500)))
        _ = receive(&loop, 0, to: "a")
        _ = loop.scheduler.attemptEnded(0, now: clock.now)
        _ = loop.scheduler.published(0, now: clock.now)
        clock.advance(by: .milliseconds(500))
        let due = loop.commitDue(now: clock.now)
        #expect(due)
        let point = loop.commitPoint()
        #expect(point?.offset == 1)
        loop.commitStarted()
        clock.advance(by: .milliseconds(500))
        let dueWhileInFlight = loop.commitDue(now: clock.now)
        #expect(!dueWhileInFlight, "the previous commit is still in flight")
        loop.commitEnded(point!, succeeded: true)
        let moved = loop.commitPoint()
        #expect(moved == nil, "nothing moved since")
        #expect(loop.committed == point)
    }

    @Test("a failed commit is tried again: the committed point stays where it was")
    func failedCommit() {
        var loop = loop()
        _ = receive(&loop, 0, to: "a")
        _ = loop.scheduler.attemptEnded(0, now: clock.now)
        _ = loop.scheduler.published(0, now: clock.now)
        let point = loop.commitPoint()!
        loop.commitStarted()
        loop.commitEnded(point, succeeded: false)
        let again = loop.commitPoint()
        #expect(again == point)
    }

    @Test("with transactions the loop never commits the group offset itself")
    func transactionsCommitElsewhere() {
        var loop = loop(transactions: true)
        clock.advance(by: .seconds(60))
        let due = loop.commitDue(now: clock.now)
        #expect(!due)
        #expect(loop.nextDeadline == nil, "nothing to wake for")
    }

    @Test("a revoked partition sends nothing new, stops once in-flight work is out, and never commits on the interval after")
    func drains() {
        var loop = loop()
        #expect(receive(&loop, 0, to: "a") == [.send(0)])
        loop.ended(lost: false, cancelled: false, now: clock.now)
        #expect(receive(&loop, 1, to: "b").isEmpty, "nothing new once draining")
        #expect(loop.nextDeadline == clock.now.advanced(by: .seconds(8)))
        loop.checkDrained(now: clock.now)
        #expect(loop.stop == nil)
        _ = loop.scheduler.attemptEnded(0, now: clock.now)
        loop.checkDrained(now: clock.now)
        #expect(loop.stop == nil, "its outcome is still being published")
        _ = loop.scheduler.published(0, now: clock.now)
        clock.advance(by: .seconds(1))
        let dueWhileDraining = loop.commitDue(now: clock.now)
        #expect(!dueWhileDraining, "the last commit comes after the loop, not on the interval")
        loop.checkDrained(now: clock.now)
        #expect(loop.stop == .drained)
    }

    @Test("a send still out at the drain deadline stops the loop as timed out (it is redelivered)")
    func drainTimesOut() {
        var loop = loop()
        _ = receive(&loop, 0, to: "a")
        loop.ended(lost: false, cancelled: false, now: clock.now)
        clock.advance(by: .seconds(7))
        loop.checkDrained(now: clock.now)
        #expect(loop.stop == nil)
        clock.advance(by: .seconds(1))
        loop.checkDrained(now: clock.now)
        #expect(loop.stop == .drainTimedOut)
        #expect(loop.drainDeadline == clock.now)
    }

    @Test("a lost or cancelled partition stops at once; a second end keeps the first deadline")
    func stopsAtOnce() {
        var lost = loop()
        _ = receive(&lost, 0, to: "a")
        lost.ended(lost: true, cancelled: false, now: clock.now)
        #expect(lost.stop == .lost)
        var cancelled = loop()
        cancelled.ended(lost: false, cancelled: true, now: clock.now)
        #expect(cancelled.stop == .cancelled)
        var revoked = loop()
        revoked.ended(lost: false, cancelled: false, now: clock.now)
        clock.advance(by: .seconds(3))
        revoked.ended(lost: false, cancelled: false, now: clock.now)
        #expect(revoked.drainDeadline == clock.now.advanced(by: .seconds(5)))
        revoked.failed()
        #expect(revoked.stop == .fatal)
    }

    @Test("parked records are reported once as they come and go, per reason; the loop wakes for the first due")
    func countsWaiting() {
        let later = clock.now.advanced(by: .seconds(2))
        var loop = loop(
            transactions: true, ["0": .park(until: later, .limit(account: "x")), "1": .park(until: later, .limit(account: "x"))])
        _ = receive(&loop, 0, to: "a")
        _ = receive(&loop, 1, to: "b")
        _ = receive(&loop, 2, to: "c")
        let parked = loop.waitingChanges()
        #expect(parked == [.limit(account: "x"): 2])
        let unchanged = loop.waitingChanges()
        #expect(unchanged.isEmpty, "reported once")
        #expect(loop.nextDeadline == later)
        clock.advance(by: .seconds(2))
        let due = loop.scheduler.timersDue(at: clock.now)
        #expect(due == [.send(0), .send(1)])
        let unparked = loop.waitingChanges()
        #expect(unparked == [.limit(account: "x"): -2])
    }

    @Test("the progress offered carries the sent log's floor: a sent record not yet committed stays findable")
    func progressWithSentLog() {
        var loop = loop(transactions: true)
        loop.sentLog = SentLogState(partition: TopicPartition(topic: "wxpush.sent", partition: 0), alreadySent: [:], next: 40)
        _ = receive(&loop, 0, to: "a")
        _ = receive(&loop, 1, to: "b")
        _ = loop.scheduler.attemptEnded(1, now: clock.now)
        loop.sentLog?.writing(1)
        loop.sentLog?.written(at: 40)
        _ = loop.scheduler.published(1, now: clock.now)
        let early = loop.progress()
        #expect(early == nil, "offset 0 is still sending: nothing to commit")
        _ = loop.scheduler.attemptEnded(0, now: clock.now)
        _ = loop.scheduler.published(0, now: clock.now)
        let done = loop.progress()
        #expect(done == CommitProgress(offset: 2, doneAbove: [], sentLogFloor: 41))
    }
}
