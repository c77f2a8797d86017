import Dispatcher
import Testing
import Waiting

@Suite("PartitionScheduler: slots only for sending records, order per recipient, bounded buffer")
struct PartitionSchedulerTests {
    typealias Scheduler = PartitionScheduler<ScriptedGate>
    let clock = ManualClock()

    func key(_ name: String) -> [UInt8] { Array(name.utf8) }

    func sends(_ actions: [Scheduler.Action]) -> [Int64] {
        actions.compactMap { if case .send(let offset) = $0 { offset } else { nil } }
    }

    @Test("different recipients fill the window; the rest wait without a slot")
    func windowFills() {
        var scheduler = Scheduler(limits: .init(window: 2, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        #expect(sends(scheduler.received(0, item: "0", key: key("a"), bytes: 10, needsSend: true, now: clock.now).actions) == [0])
        #expect(sends(scheduler.received(1, item: "1", key: key("b"), bytes: 10, needsSend: true, now: clock.now).actions) == [1])
        #expect(sends(scheduler.received(2, item: "2", key: key("c"), bytes: 10, needsSend: true, now: clock.now).actions) == [])
        #expect(scheduler.sending == 2)
        #expect(sends(scheduler.attemptEnded(1, now: clock.now)) == [2])
    }

    @Test("a busy recipient's next record waits outside the window; other recipients go on")
    func hotKeyDoesNotStall() {
        var scheduler = Scheduler(limits: .init(window: 2, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        _ = scheduler.received(0, item: "0", key: key("hot"), bytes: 1, needsSend: true, now: clock.now)
        for offset in 1...5 {
            #expect(
                sends(
                    scheduler.received(Int64(offset), item: "\(Int64(offset))", key: key("hot"), bytes: 1, needsSend: true, now: clock.now)
                        .actions) == [])
        }
        #expect(scheduler.sending == 1)
        // The free slot goes to another recipient, not to a record waiting for its turn.
        #expect(sends(scheduler.received(6, item: "6", key: key("cold"), bytes: 1, needsSend: true, now: clock.now).actions) == [6])
        #expect(sends(scheduler.attemptEnded(0, now: clock.now)) == [1])
    }

    @Test("records of one recipient are sent strictly in offset order")
    func orderPerKey() {
        var scheduler = Scheduler(limits: .init(window: 8, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        var sent: [Int64] = []
        for offset in 0..<4 {
            sent += sends(
                scheduler.received(Int64(offset), item: "\(Int64(offset))", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
                    .actions)
        }
        while let last = sent.last, sent.count < 4 { sent += sends(scheduler.attemptEnded(last, now: clock.now)) }
        #expect(sent == [0, 1, 2, 3])
    }

    @Test("a retry backs off without a slot, keeps its recipient's turn, and comes back first")
    func retryFreesSlot() {
        var scheduler = Scheduler(limits: .init(window: 1, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        _ = scheduler.received(0, item: "0", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
        _ = scheduler.received(1, item: "1", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
        _ = scheduler.received(2, item: "2", key: key("b"), bytes: 1, needsSend: true, now: clock.now)
        let retryAt = clock.now.advanced(by: .seconds(2))
        // Offset 0 backs off: the slot goes to b, not to a's next record.
        #expect(sends(scheduler.attemptEnded(0, retryAt: retryAt, now: clock.now)) == [2])
        #expect(scheduler.nextTimer == retryAt)
        #expect(sends(scheduler.timersDue(at: clock.now)) == [])
        clock.advance(by: .seconds(2))
        #expect(sends(scheduler.timersDue(at: clock.now)) == [])  // the window is still full
        #expect(sends(scheduler.attemptEnded(2, now: clock.now)) == [0])  // the due retry goes before anything newer
        #expect(sends(scheduler.attemptEnded(0, now: clock.now)) == [1])
    }

    @Test("the commit point moves only over published records, and reports those done above it")
    func commitPoint() {
        var scheduler = Scheduler(limits: .init(window: 4, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        for offset in 10..<13 {
            _ = scheduler.received(
                Int64(offset), item: "\(Int64(offset))", key: key("k\(offset)"), bytes: 1, needsSend: true, now: clock.now)
        }
        _ = scheduler.attemptEnded(11, now: clock.now)
        _ = scheduler.published(11, now: clock.now)
        #expect(scheduler.committable == nil)
        #expect(scheduler.doneAboveCommitPoint == [11])
        _ = scheduler.attemptEnded(10, now: clock.now)
        #expect(scheduler.committable == nil)  // sent, but its outcome is not acknowledged yet
        _ = scheduler.published(10, now: clock.now)
        #expect(scheduler.committable == 12)
        #expect(scheduler.doneAboveCommitPoint == [])
    }

    @Test("records that need no send go straight to publishing and skip the recipient's queue")
    func noSend() {
        var scheduler = Scheduler(limits: .init(window: 1, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        _ = scheduler.received(0, item: "0", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
        #expect(sends(scheduler.received(1, item: "1", key: nil, bytes: 1, needsSend: false, now: clock.now).actions) == [])
        #expect(!scheduler.isIdle)
        _ = scheduler.published(1, now: clock.now)
        #expect(scheduler.doneAboveCommitPoint == [1])
    }

    @Test("the buffer pauses at its record bound and resumes with a quarter free")
    func pauseByCount() {
        var scheduler = Scheduler(limits: .init(window: 1, maxRecords: 8, maxBytes: 1 << 20), gate: ScriptedGate())
        var actions: [Scheduler.Action] = []
        for offset in 0..<8 {
            actions +=
                scheduler.received(Int64(offset), item: "\(Int64(offset))", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
                .actions
        }
        #expect(actions.contains(.pause))
        #expect(scheduler.room == 0)
        #expect(scheduler.isPaused)
        _ = scheduler.attemptEnded(0, now: clock.now)
        #expect(scheduler.published(0, now: clock.now) == [])
        _ = scheduler.attemptEnded(1, now: clock.now)
        #expect(scheduler.published(1, now: clock.now) == [.resume])
        #expect(scheduler.room == 2)
    }

    @Test("outcomes that cannot get out stop new sends at four windows; they start again as outcomes go")
    func publishingBackpressure() {
        var scheduler = Scheduler(limits: .init(window: 2, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        var sent: [Int64] = []
        for offset in 0..<20 {
            sent += sends(
                scheduler.received(
                    Int64(offset), item: "\(Int64(offset))", key: key("r\(offset)"), bytes: 1, needsSend: true, now: clock.now
                ).actions)
        }
        #expect(sent == [0, 1])
        // Every attempt ends but no outcome is acknowledged (Kafka is down).
        var index = 0
        while index < sent.count {
            sent += sends(scheduler.attemptEnded(sent[index], now: clock.now))
            index += 1
        }
        #expect(scheduler.publishing == 8)
        #expect(scheduler.sending == 0)
        #expect(sent.count == 8, "sends went on while their outcomes could not get out")
        // An outcome gets out: one more send may start.
        #expect(sends(scheduler.published(0, now: clock.now)) == [8])
    }

    @Test("the buffer pauses at its byte bound")
    func pauseByBytes() {
        var scheduler = Scheduler(limits: .init(window: 4, maxRecords: 100, maxBytes: 1_000), gate: ScriptedGate())
        #expect(!scheduler.received(0, item: "0", key: key("a"), bytes: 600, needsSend: true, now: clock.now).actions.contains(.pause))
        #expect(scheduler.received(1, item: "1", key: key("b"), bytes: 600, needsSend: true, now: clock.now).actions.contains(.pause))
        #expect(scheduler.room == 0)
    }

    @Test("draining starts nothing new; parked records stay below the commit point")
    func drain() {
        var scheduler = Scheduler(limits: .init(window: 1, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        _ = scheduler.received(0, item: "0", key: key("a"), bytes: 1, needsSend: true, now: clock.now)
        _ = scheduler.received(1, item: "1", key: key("b"), bytes: 1, needsSend: true, now: clock.now)
        _ = scheduler.received(2, item: "2", key: key("c"), bytes: 1, needsSend: true, now: clock.now)
        _ = scheduler.attemptEnded(0, retryAt: clock.now.advanced(by: .seconds(1)), now: clock.now)  // 1 starts
        scheduler.drain()
        #expect(scheduler.room == 0)
        #expect(scheduler.nextTimer == nil)
        #expect(sends(scheduler.attemptEnded(1, now: clock.now)) == [])
        #expect(!scheduler.isIdle)  // 1 is publishing
        _ = scheduler.published(1, now: clock.now)
        #expect(scheduler.isIdle)
        #expect(scheduler.committable == nil)  // 0 was never finished: it goes to the next owner
        #expect(scheduler.doneAboveCommitPoint == [1])
    }

    @Test("offsets going backwards restart the commit point instead of trapping")
    func backwards() {
        var scheduler = Scheduler(limits: .init(window: 2, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate())
        #expect(scheduler.received(5, item: "5", key: key("a"), bytes: 1, needsSend: true, now: clock.now).inOrder)
        #expect(!scheduler.received(3, item: "3", key: key("b"), bytes: 1, needsSend: true, now: clock.now).inOrder)
    }

    @Test("random completions keep order per key, the window bound, and end with everything committed")
    func randomized() {
        var random = SeededGenerator(seed: 7)
        var scheduler = Scheduler(limits: .init(window: 4, maxRecords: 1_000, maxBytes: 1 << 20), gate: ScriptedGate())
        var sendingNow: [Int64] = []
        var sentOrder: [String: [Int64]] = [:]
        var keys: [Int64: String] = [:]
        func apply(_ actions: [Scheduler.Action]) {
            for offset in sends(actions) {
                sendingNow.append(offset)
                sentOrder[keys[offset]!, default: []].append(offset)
            }
            #expect(sendingNow.count <= 4)
        }
        for offset in Int64(0)..<300 {
            keys[offset] = "k\(random.next() % 7)"
            apply(scheduler.received(offset, item: "\(offset)", key: key(keys[offset]!), bytes: 1, needsSend: true, now: clock.now).actions)
        }
        while !sendingNow.isEmpty {
            let offset = sendingNow.remove(at: Int(random.next() % UInt64(sendingNow.count)))
            apply(scheduler.attemptEnded(offset, now: clock.now))
            apply(scheduler.published(offset, now: clock.now))
        }
        #expect(scheduler.committable == 300)
        for offsets in sentOrder.values { #expect(offsets == offsets.sorted()) }
        #expect(sentOrder.values.reduce(0) { $0 + $1.count } == 300)
    }
}
