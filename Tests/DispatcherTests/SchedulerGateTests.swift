import Dispatcher
import Testing
import Waiting

/// A gate that answers what the test scripted for each record (once), and `go` otherwise.
struct ScriptedGate: RecordGate {
    var decisions: [String: GateDecision<ManualClock.Instant>] = [:]
    /// The records it was asked about, in order.
    var asked: [String] = []

    mutating func admit(_ item: inout String, now: ManualClock.Instant) -> GateDecision<ManualClock.Instant> {
        asked.append(item)
        guard let decision = decisions.removeValue(forKey: item) else { return .go }
        if case .park = decision { item += "+parked" }
        return decision
    }
}

@Suite("PartitionScheduler with its gate: attempt, park until, reject; only attempts hold slots")
struct SchedulerGateTests {
    typealias Scheduler = PartitionScheduler<ScriptedGate>
    let clock = ManualClock()

    func key(_ name: String) -> [UInt8] { Array(name.utf8) }

    func sends(_ actions: [Scheduler.Action]) -> [Int64] {
        actions.compactMap { if case .send(let offset) = $0 { offset } else { nil } }
    }

    func scheduler(window: Int = 2, _ decisions: [String: GateDecision<ManualClock.Instant>]) -> Scheduler {
        Scheduler(limits: .init(window: window, maxRecords: 100, maxBytes: 1 << 20), gate: ScriptedGate(decisions: decisions))
    }

    mutating func receive(_ scheduler: inout Scheduler, _ offset: Int64, _ name: String) -> [Scheduler.Action] {
        scheduler.received(offset, item: "\(offset)", key: key(name), bytes: 1, needsSend: true, now: clock.now).actions
    }

    @Test("a parked record takes no slot and is no attempt; its recipient waits, others go; it goes when due")
    mutating func park() {
        let later = clock.now.advanced(by: .seconds(5))
        var scheduler = scheduler(window: 1, ["0": .park(until: later, .limit(account: "a"))])
        #expect(sends(receive(&scheduler, 0, "x")) == [])
        #expect(scheduler.sending == 0)
        #expect(scheduler.waiting == [.limit(account: "a"): 1])
        #expect(sends(receive(&scheduler, 1, "x")) == [], "x's next record waits for x's turn")
        #expect(sends(receive(&scheduler, 2, "y")) == [2])
        #expect(scheduler.nextTimer == later)
        #expect(scheduler.item(0) == "0+parked", "what the gate kept in the item stays with the record")
        clock.advance(by: .seconds(5))
        #expect(sends(scheduler.timersDue(at: clock.now)) == [], "the window is full")
        #expect(scheduler.waiting == [:])
        #expect(sends(scheduler.attemptEnded(2, now: clock.now)) == [0])
        #expect(scheduler.gate.asked == ["0", "2", "0+parked"])
        #expect(sends(scheduler.attemptEnded(0, now: clock.now)) == [1])
    }

    @Test("a rejected record is no attempt: its outcome publishes and its recipient's next record gets the turn")
    mutating func reject() {
        var scheduler = scheduler(["0": .reject(reason: "recipient_throttled")])
        let actions = receive(&scheduler, 0, "x")
        #expect(actions == [.reject(0, reason: "recipient_throttled")])
        #expect(scheduler.sending == 0)
        #expect(scheduler.publishing == 1)
        #expect(sends(receive(&scheduler, 1, "x")) == [1], "a rejection is final: x's turn passed")
        _ = scheduler.published(0, now: clock.now)
        #expect(scheduler.committable == 1)
    }

    @Test("the next record of a rejected one's recipient is asked at once")
    mutating func rejectPassesTurn() {
        var scheduler = scheduler(window: 1, ["1": .reject(reason: "no")])
        #expect(sends(receive(&scheduler, 0, "x")) == [0])
        _ = receive(&scheduler, 1, "x")
        _ = receive(&scheduler, 2, "x")
        #expect(scheduler.attemptEnded(0, now: clock.now) == [.reject(1, reason: "no"), .send(2)])
    }

    @Test("sends equal the gate's go answers, whatever it parks or rejects")
    mutating func noPhantomAttempts() {
        var scheduler = scheduler(window: 3, [:])
        var random = SeededGenerator(seed: 3)
        var (sendingNow, attempts, rejected, parks) = ([Int64](), 0, 0, 0)
        func apply(_ actions: [Scheduler.Action], _ scheduler: inout Scheduler) {
            var queue = actions[...]
            while let action = queue.popFirst() {
                switch action {
                case .send(let offset):
                    sendingNow.append(offset)
                    attempts += 1
                case .reject(let offset, _):
                    rejected += 1
                    queue += scheduler.published(offset, now: clock.now)
                case .pause, .resume:
                    break
                }
            }
            #expect(scheduler.sending == sendingNow.count && sendingNow.count <= 3)
        }
        for offset in Int64(0)..<200 {
            switch random.next() % 4 {
            case 0:
                parks += 1
                scheduler.gate.decisions["\(offset)"] = .park(
                    until: clock.now.advanced(by: .milliseconds(Int64(random.next() % 50))), .retry)
            case 1:
                scheduler.gate.decisions["\(offset)"] = .reject(reason: "no")
            default:
                break
            }
            apply(receive(&scheduler, offset, "k\(random.next() % 5)"), &scheduler)
        }
        var turns = 0
        while scheduler.held > 0 && turns < 10_000 {
            turns += 1
            if let offset = sendingNow.popLast() {
                apply(scheduler.attemptEnded(offset, now: clock.now) + scheduler.published(offset, now: clock.now), &scheduler)
            } else {
                clock.advance(by: .milliseconds(10))
                apply(scheduler.timersDue(at: clock.now), &scheduler)
            }
        }
        #expect(scheduler.held == 0)
        #expect(attempts + rejected == 200)
        #expect(scheduler.gate.asked.count == attempts + rejected + parks)
        #expect(scheduler.committable == 200)
    }

    @Test("woken records (what they waited for changed) are asked again at once; the others keep their time")
    mutating func wake() {
        let later = clock.now.advanced(by: .seconds(60))
        var scheduler = scheduler(["0": .park(until: later, .limit(account: "a")), "1": .park(until: later, .limit(account: "b"))])
        _ = receive(&scheduler, 0, "x")
        _ = receive(&scheduler, 1, "y")
        scheduler.wake(at: clock.now) { _, reason in reason == .limit(account: "a") }
        #expect(scheduler.nextTimer == clock.now)
        #expect(sends(scheduler.timersDue(at: clock.now)) == [0])
        #expect(scheduler.nextTimer == later)
        #expect(scheduler.waiting == [.limit(account: "b"): 1])
    }

    @Test("a drain forgets the parked records' timers and counts; they go to the next owner")
    mutating func drainParked() {
        var scheduler = scheduler(["0": .park(until: clock.now.advanced(by: .seconds(1)), .throttle)])
        _ = receive(&scheduler, 0, "x")
        scheduler.drain()
        scheduler.wake(at: clock.now) { _, _ in true }
        #expect(scheduler.nextTimer == nil)
        #expect(scheduler.waiting == [:])
        #expect(scheduler.isIdle)
        #expect(scheduler.committable == nil)
    }
}
