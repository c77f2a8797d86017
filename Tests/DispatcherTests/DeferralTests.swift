import Foundation
import Kafka
import Synchronization
import Testing

@testable import Dispatcher

/// `not_before` and quiet hours: when a request may go, which delay tier a long wait takes, and
/// a deferred record parked without a slot while other recipients go, on a manual clock.
@Suite("Deferral: not_before and quiet hours, delay tiers, parked without a slot")
struct DeferralTests {
    static let shanghai = try! QuietSpan(QuietHours(from: "22:00", to: "08:00", zone: "Asia/Shanghai"))

    static func date(_ text: String) -> Date { Timestamp.parse(text)! }

    @Test("quiet hours wrap midnight in their own zone, end at `to`, and leave the rest of the day alone")
    func quietHours() throws {
        let span = Self.shanghai
        #expect(span.end(containing: Self.date("2026-12-07T23:00:00+08:00")) == Self.date("2026-12-08T08:00:00+08:00"))
        #expect(span.end(containing: Self.date("2026-12-08T03:15:00+08:00")) == Self.date("2026-12-08T08:00:00+08:00"))
        #expect(span.end(containing: Self.date("2026-12-08T22:00:00+08:00")) == Self.date("2026-12-09T08:00:00+08:00"))
        #expect(span.end(containing: Self.date("2026-12-08T08:00:00+08:00")) == nil, "`to` itself is no longer quiet")
        #expect(span.end(containing: Self.date("2026-12-08T12:00:00Z")) == nil, "20:00 in Shanghai")
        let lunch = try QuietSpan(QuietHours(from: "12:00", to: "13:30:15", zone: "+08:00"))
        #expect(lunch.end(containing: Self.date("2026-12-08T12:59:00+08:00")) == Self.date("2026-12-08T13:30:15+08:00"))
        #expect(lunch.end(containing: Self.date("2026-12-08T11:59:59+08:00")) == nil)
        for (hours, problem) in [
            (QuietHours(from: "24:00", to: "08:00", zone: "UTC"), "quiet_hours.from"),
            (QuietHours(from: "22:00", to: "8:00", zone: "UTC"), "quiet_hours.to"),
            (QuietHours(from: "22:00", to: "22:00", zone: "UTC"), "empty"),
            (QuietHours(from: "22:00", to: "08:00", zone: "Mars/Olympus"), "quiet_hours.zone"),
        ] {
            #expect(throws: QuietSpan.Problem.self) { try QuietSpan(hours) }
            do { _ = try QuietSpan(hours) } catch { #expect(error.description.contains(problem), "\(error)") }
        }
    }

    @Test("the release is the later of not_before and the end of the quiet span it falls in; nil when it may go now")
    func release() {
        let now = Self.date("2026-12-07T20:00:00+08:00")
        #expect(Deferral.release(notBefore: nil, quiet: Self.shanghai, now: now) == nil)
        #expect(Deferral.release(notBefore: now.addingTimeInterval(-5), quiet: nil, now: now) == nil)
        #expect(Deferral.release(notBefore: now.addingTimeInterval(5), quiet: nil, now: now) == now.addingTimeInterval(5))
        #expect(
            Deferral.release(notBefore: Self.date("2026-12-07T23:30:00+08:00"), quiet: Self.shanghai, now: now)
                == Self.date("2026-12-08T08:00:00+08:00"), "not_before lands in the quiet span: its end")
    }

    @Test("a wait takes the longest tier it covers; below the shortest it stays in memory; no prefix, no tiers")
    func tiers() {
        let tiers = DelayTiers(prefix: "wxpush.delay")
        #expect(
            tiers.topics == [
                "wxpush.delay.5s", "wxpush.delay.30s", "wxpush.delay.3m", "wxpush.delay.15m", "wxpush.delay.1h", "wxpush.delay.4h",
            ])
        #expect(tiers.tier(forWait: .milliseconds(4_999)) == nil)
        #expect(tiers.tier(forWait: .seconds(5)) == .seconds(5))
        #expect(tiers.tier(forWait: .seconds(179)) == .seconds(30))
        #expect(tiers.tier(forWait: .seconds(11 * 3600)) == .seconds(4 * 3600))
        #expect(DelayTiers(prefix: "").tier(forWait: .seconds(3600)) == nil)
        #expect(DelayTiers(prefix: "").topics.isEmpty)
    }

    @Test("a copy hops to the tier its remaining wait covers, then returns to its requests topic without the delay headers")
    func copies() throws {
        let tiers = DelayTiers(prefix: "d", tiers: [.seconds(5), .seconds(30)])
        let now = Self.date("2026-12-07T12:00:00Z")
        let original = KafkaMessage(
            topic: "wxpush.requests", partition: 2, offset: 41, key: Array("o1".utf8), value: Array("{}".utf8),
            headers: [KafkaHeader(name: "traceparent", string: "00-abc-def-01")], timestampMilliseconds: 1_700_000_000_000)
        let first = DeferredCopy.first(original, releaseAt: now.addingTimeInterval(100), tier: .seconds(30), tiers: tiers, now: now)
        #expect(first.topic == "d.30s" && first.key == original.key && first.value == original.value)
        func read(_ record: KafkaRecord, offset: Int64 = 0) -> KafkaMessage {
            KafkaMessage(topic: record.topic, partition: 0, offset: offset, key: record.key, value: record.value, headers: record.headers)
        }
        let copy = DeferredCopy(read(first))
        #expect(copy.dueAt == now.addingTimeInterval(30) && copy.releaseAt == now.addingTimeInterval(100))
        #expect(copy.returnTopic == "wxpush.requests")
        let topics: Set<String> = ["wxpush.requests"]
        let hop = try #require(copy.next(tiers: tiers, requestTopics: topics, now: now.addingTimeInterval(30)))
        #expect(hop.topic == "d.30s", "70 s left: the 30 s tier again")
        let back = try #require(DeferredCopy(read(hop)).next(tiers: tiers, requestTopics: topics, now: now.addingTimeInterval(97)))
        #expect(back.topic == "wxpush.requests" && back.partition == 2, "3 s left: back to its topic and partition, to wait in memory")
        let names = Set(back.headers.map(\.name))
        #expect(names == ["traceparent", "wxpush-deferred-from", "wxpush-original-timestamp"], "\(names)")
        #expect(read(back).header("wxpush-deferred-from").map { String(decoding: $0, as: UTF8.self) } == "wxpush.requests/2/41")
        #expect(DeferredCopy(original).next(tiers: tiers, requestTopics: topics, now: now) == nil, "not a copy wxpush wrote")
        #expect(
            copy.next(tiers: tiers, requestTopics: ["other"], now: now.addingTimeInterval(97)) == nil, "never to a topic not configured")
    }

    @Test(
        "on a manual clock: a request in its rule's quiet hours and one with not_before park without a slot and go at their release, no earlier; other recipients go at once"
    )
    func parkedUntilRelease() throws {
        let rules = try RuleBook(
            RulesFile(rules: [
                "night": Rule(
                    kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "v")],
                    quietHours: QuietHours(from: "22:00", to: "08:00", zone: "Asia/Shanghai")),
                "day": Rule(kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "v")]),
            ]))
        let start = Self.date("2026-12-07T23:59:58+08:00")
        let wall = Mutex(start)
        let processor = EventProcessor(
            rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ContinuousClock(), now: { wall.withLock { $0 } })
        var gate = DispatchGate(rules: rules, limits: nil, priority: 0)
        gate.wallClock = { wall.withLock { $0 } }
        var scheduler = PartitionScheduler(limits: .init(window: 1, maxRecords: 100, maxBytes: 1 << 20), gate: gate)
        let t0 = ContinuousClock.now
        func instant(_ date: Date) -> ContinuousClock.Instant { t0.advanced(by: .seconds(date.timeIntervalSince(start))) }
        let events = [
            #"{"id":"quiet","to":"o1","type":"night"}"#,
            #"{"id":"later","to":"o2","type":"day","not_before":"2026-12-08T00:00:03+08:00"}"#,
            #"{"id":"now-1","to":"o3","type":"day"}"#,
            #"{"id":"now-2","to":"o4","type":"day"}"#,
        ]
        var sent: [String: Date] = [:]
        func record(_ actions: [PartitionScheduler<DispatchGate>.Action]) {
            for case .send(let offset) in actions {
                sent[scheduler.item(offset)!.send!.event.id] = wall.withLock { $0 }
                _ = scheduler.attemptEnded(offset, now: instant(wall.withLock { $0 }))
                _ = scheduler.published(offset, now: instant(wall.withLock { $0 }))
            }
        }
        for (offset, json) in events.enumerated() {
            let message = KafkaMessage(topic: "t", partition: 0, offset: Int64(offset), key: nil, value: Array(json.utf8))
            guard case .send(let send) = processor.prepare(message) else { Issue.record("\(json) not prepared"); return }
            let held = HeldRecord(original: message, send: send)
            record(
                scheduler.received(Int64(offset), item: held, key: Array(send.event.to.utf8), bytes: 10, needsSend: true, now: t0).actions)
        }
        #expect(Set(sent.keys) == ["now-1", "now-2"], "a window of one, yet the deferred records hold no slot")
        #expect(scheduler.waiting[.deferred] == 2)
        // Tick the manual clock a second at a time to 08:00:01 in Shanghai.
        for _ in 0..<(8 * 3600 + 3) {
            let date = wall.withLock {
                $0 = $0.addingTimeInterval(1); return $0
            }
            record(scheduler.timersDue(at: instant(date)))
        }
        #expect(sent["later"] == Self.date("2026-12-08T00:00:03+08:00"), "not before its not_before")
        #expect(sent["quiet"] == Self.date("2026-12-08T08:00:00+08:00"), "at the end of the quiet hours, not before")
        #expect(scheduler.waiting.isEmpty)
    }

    @Test("quiet hours are asked again at the turn: a record that arrived before them and waited into them parks until their end")
    func quietAtTheTurn() throws {
        let rules = try RuleBook(
            RulesFile(rules: [
                "night": Rule(
                    kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "v")],
                    quietHours: QuietHours(from: "22:00", to: "08:00", zone: "Asia/Shanghai"))
            ]))
        let arrived = Self.date("2026-12-07T21:59:00+08:00")
        let processor = EventProcessor(
            rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ContinuousClock(), now: { arrived })
        let message = KafkaMessage(
            topic: "t", partition: 0, offset: 0, key: nil, value: Array(#"{"id":"a","to":"o1","type":"night"}"#.utf8))
        guard case .send(let send) = processor.prepare(message) else { Issue.record("not prepared"); return }
        #expect(send.releaseAt == nil, "outside the quiet hours on arrival")
        var gate = DispatchGate(rules: rules, limits: nil, priority: 0)
        gate.wallClock = { Self.date("2026-12-08T00:00:05+08:00") }  // after a quota reset at midnight
        var item = HeldRecord(original: message, send: send)
        let now = ContinuousClock.now
        guard case .park(let until, .deferred) = gate.admit(&item, now: now) else { Issue.record("expected a deferred park"); return }
        #expect(abs((until - now).seconds - (8 * 3600 - 5)) < 1, "until 08:00 in Shanghai")
    }

    @Test("a release after expires_at ends the request expired at once, naming why")
    func expiresFirst() throws {
        let rules = try RuleBook(RulesFile(rules: ["day": Rule(kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "v")])]))
        let now = Self.date("2026-12-07T12:00:00Z")
        let processor = EventProcessor(
            rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ContinuousClock(), now: { now })
        let json = #"{"id":"e","to":"o1","type":"day","not_before":"2026-12-07T13:00:00Z","expires_at":"2026-12-07T12:30:00Z"}"#
        let message = KafkaMessage(topic: "t", partition: 0, offset: 0, key: nil, value: Array(json.utf8))
        guard case .finished(let outcome) = processor.prepare(message) else { Issue.record("expected an outcome at once"); return }
        #expect(outcome.status == .expired && outcome.reasonCode == .expired)
        #expect(outcome.reason?.contains("not_before") == true, "\(outcome.reason ?? "")")
    }
}
