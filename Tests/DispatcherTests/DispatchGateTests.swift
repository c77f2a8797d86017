import Foundation
import Kafka
import Testing
import WeChat

@testable import Dispatcher

/// The dispatcher's gate on its own: the throttle's answers as park / reject, and an expired
/// record that always goes (its attempt ends it `expired`).
@Suite("DispatchGate: the throttle as park or reject; an expired record goes")
struct DispatchGateTests {
    static func rules(_ excess: ThrottleRule.Excess) -> RuleBook {
        try! RuleBook(
            RulesFile(rules: [
                "ping": Rule(
                    kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "v")],
                    throttle: ThrottleRule(count: 1, window: 3_600, onExcess: excess))
            ]))
    }

    /// A record of rule `ping` for recipient o1, expiring at `expiresAt`.
    static func held(_ rules: RuleBook, id: String, expiresAt: Date? = nil) throws -> HeldRecord {
        let expiry = expiresAt.map { #","expires_at":"\#(Timestamp.format($0))""# } ?? ""
        let json = #"{"v":1,"id":"\#(id)","to":"o1","type":"ping"\#(expiry)}"#
        let record = KafkaMessage(topic: "t", partition: 0, offset: 1, key: Array("o1".utf8), value: Array(json.utf8))
        let processor = EventProcessor(
            rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ContinuousClock())
        guard case .send(let send) = processor.prepare(record) else { throw CancellationError() }
        return HeldRecord(original: record, send: send)
    }

    /// The gate after one send of `ping` to o1 a minute ago.
    static func gate(_ rules: RuleBook) -> DispatchGate {
        var gate = DispatchGate(rules: rules, limits: nil, priority: 0)
        gate.throttle.record(type: "ping", to: "o1", rule: rules.throttle(for: "ping")!, at: Date().addingTimeInterval(-60))
        return gate
    }

    @Test("over the throttle with on_excess reject: rejected, naming the rule")
    func reject() throws {
        let rules = Self.rules(.reject)
        var gate = Self.gate(rules)
        var record = try Self.held(rules, id: "a")
        guard case .reject(let reason) = gate.admit(&record, now: .now) else { Issue.record("expected a rejection"); return }
        #expect(reason.hasPrefix("recipient_throttled"))
    }

    @Test("an id sent within the dedup window is answered at its turn: it goes, past the throttle and the limits, with its outcome")
    func answeredBeforeTheThrottle() throws {
        let rules = Self.rules(.reject)
        var gate = Self.gate(rules)
        let processor = EventProcessor(rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ContinuousClock())
        gate.recentSends = RecentSends(window: 3_600)
        gate.recentSends.sent("a", msgid: 77, at: Date().addingTimeInterval(-60))
        gate.answer = { send, recent in
            recent.first(send.event.id, now: Date()).map { processor.duplicate(send, msgid: $0.msgid, sentAt: $0.at) }
        }
        var record = try Self.held(rules, id: "a")
        #expect(gate.admit(&record, now: .now) == .go, "no throttle rejection for an answer")
        #expect(record.answered?.reasonCode == .alreadySent && record.answered?.msgid == 77)
        var other = try Self.held(rules, id: "b")
        guard case .reject = gate.admit(&other, now: .now) else { Issue.record("another id meets the throttle"); return }
        #expect(other.answered == nil)
    }

    @Test("over the throttle with on_excess delay: parked for the throttle until the window allows, or just past its expiry")
    func delay() throws {
        let rules = Self.rules(.delay)
        var gate = Self.gate(rules)
        let now = ContinuousClock.now
        var record = try Self.held(rules, id: "a")
        guard case .park(let until, .throttle) = gate.admit(&record, now: now) else { Issue.record("expected a throttle park"); return }
        #expect(now.duration(to: until) > .seconds(3_400) && now.duration(to: until) <= .seconds(3_540))
        var expiring = try Self.held(rules, id: "b", expiresAt: Date().addingTimeInterval(30))
        guard case .park(let soon, .throttle) = gate.admit(&expiring, now: now) else { Issue.record("expected a throttle park"); return }
        #expect(now.duration(to: soon) <= .seconds(31))
    }

    @Test("an expired record goes, whatever the throttle says: its attempt ends it expired, no send")
    func expiredGoes() throws {
        let rules = Self.rules(.delay)
        var gate = Self.gate(rules)
        var record = try Self.held(rules, id: "a", expiresAt: Date().addingTimeInterval(-1))
        #expect(gate.admit(&record, now: .now) == .go)
    }

    @Test("a sent outcome counts against its recipient's throttle; one not sent does not")
    func sentCounts() throws {
        let rules = Self.rules(.reject)
        var gate = DispatchGate(rules: rules, limits: nil, priority: 0)
        var record = try Self.held(rules, id: "a")
        #expect(gate.admit(&record, now: .now) == .go)
        var outcome = record.send!.outcome
        outcome.status = .failed
        gate.sent(outcome)
        #expect(gate.admit(&record, now: .now) == .go)
        outcome.status = .sent
        outcome.attempts = 1
        gate.sent(outcome)
        guard case .reject = gate.admit(&record, now: .now) else { Issue.record("expected a rejection after a send"); return }
    }
}
