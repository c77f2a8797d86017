import Dispatcher
import Foundation
import Testing

@Suite("Per-recipient throttles")
struct RecipientThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("spans parse as the rules file writes them; anything else is refused")
    func parsing() {
        #expect(ThrottleRule(perRecipient: "3/1h", onExcess: .reject) == ThrottleRule(count: 3, window: 3600))
        #expect(ThrottleRule(perRecipient: "10/30m", onExcess: .delay)?.window == 1800)
        #expect(ThrottleRule(perRecipient: "1/1d", onExcess: .reject)?.window == 86_400)
        #expect(ThrottleRule(perRecipient: "5/90s", onExcess: .reject)?.window == 90)
        #expect(ThrottleRule(perRecipient: "2/5min", onExcess: .reject)?.window == 300)
        #expect(ThrottleRule(perRecipient: "2/h", onExcess: .reject)?.window == 3600)
        for bad in ["3", "0/1h", "-1/1h", "3/1", "3/1w", "x/1h", "3/-1h", "3/1ms"] {
            #expect(ThrottleRule(perRecipient: bad, onExcess: .reject) == nil, "\(bad)")
        }
    }

    @Test("reject: the (count+1)th message in the window is refused, and allowed again once the oldest ages out")
    func reject() {
        let rule = ThrottleRule(count: 2, window: 3600, onExcess: .reject)
        var throttle = RecipientThrottle()
        for minute in 0..<2 {
            #expect(throttle.check(type: "t", to: "alice", rule: rule, now: start + Double(minute * 60)) == .go)
            throttle.record(type: "t", to: "alice", rule: rule, at: start + Double(minute * 60))
        }
        #expect(
            throttle.check(type: "t", to: "alice", rule: rule, now: start + 120) == .reject(reason: "recipient_throttled: 2 per 1h for t"))
        // Other recipients and other rules count apart.
        #expect(throttle.check(type: "t", to: "bob", rule: rule, now: start + 120) == .go)
        #expect(throttle.check(type: "u", to: "alice", rule: rule, now: start + 120) == .go)
        #expect(throttle.check(type: "t", to: "alice", rule: rule, now: start + 3600) == .go)
    }

    @Test("delay: waits until the oldest send in the window ages out")
    func delay() {
        let rule = ThrottleRule(count: 2, window: 600, onExcess: .delay)
        var throttle = RecipientThrottle()
        throttle.record(type: "t", to: "alice", rule: rule, at: start)
        throttle.record(type: "t", to: "alice", rule: rule, at: start + 100)
        #expect(throttle.check(type: "t", to: "alice", rule: rule, now: start + 200) == .delay(until: start + 600))
        #expect(throttle.check(type: "t", to: "alice", rule: rule, now: start + 601) == .go)
    }

    @Test("sends rebuilt out of order (from the sent log) count the same; memory stays bounded")
    func rebuiltAndBounded() {
        let rule = ThrottleRule(count: 2, window: 600, onExcess: .reject)
        var throttle = RecipientThrottle(capacity: 100)
        throttle.record(type: "t", to: "alice", rule: rule, at: start + 50)
        throttle.record(type: "t", to: "alice", rule: rule, at: start)
        #expect(
            throttle.check(type: "t", to: "alice", rule: rule, now: start + 599) == .reject(reason: "recipient_throttled: 2 per 10m for t"))
        #expect(throttle.check(type: "t", to: "alice", rule: rule, now: start + 601) == .go)
        for index in 0..<1_000 { throttle.record(type: "t", to: "user-\(index)", rule: rule, at: start + Double(index)) }
        #expect(throttle.recipients <= 100)
        // The most recent recipients are the ones kept.
        #expect(throttle.check(type: "t", to: "user-999", rule: ThrottleRule(count: 1, window: 600), now: start + 1_000) != .go)
    }
}
