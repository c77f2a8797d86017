import Dispatcher
import Foundation
import Testing
import Waiting

@Suite("AccountLimiter: the rate as reservations, the daily quota per quota day, both scaled by the share")
struct AccountLimiterTests {
    typealias Limiter = AccountLimiter<ManualClock>
    let clock = ManualClock()
    /// 2026-12-01 12:00:00 UTC = 20:00 in Beijing.
    let noon = Date(timeIntervalSince1970: 1_796_126_400)

    /// Reserves `count` sends at the clock's now; returns how many may go at once and the last wait.
    func reserve(_ limiter: inout Limiter, _ count: Int) -> (now: Int, lastWait: Duration?) {
        var now = 0
        var last: Duration?
        for _ in 0..<count {
            switch limiter.reserve(now: clock.now, date: noon) {
            case .go: now += 1
            case .wait(let until, _): last = clock.now.duration(to: until)
            }
        }
        return (now, last)
    }

    @Test("a burst goes at once, the rest is spaced at the rate")
    func burstThenRate() {
        var limiter = Limiter(limits: AccountLimits(rate: 100, burst: 10))
        let (atOnce, lastWait) = reserve(&limiter, 30)
        #expect(atOnce == 10)
        // The 30th send is the 20th over the burst: 20 tokens at 100/s.
        #expect(lastWait == .milliseconds(200))
    }

    @Test("the bucket refills with time, up to the burst and no more")
    func refill() {
        var limiter = Limiter(limits: AccountLimits(rate: 100))
        #expect(reserve(&limiter, 100).now == 100)
        clock.advance(by: .milliseconds(50))
        #expect(reserve(&limiter, 10).now == 5)
        clock.advance(by: .seconds(60))
        // One second of rate is the default burst, however long it was quiet.
        #expect(reserve(&limiter, 150).now == 100)
    }

    @Test("reservations wake in turn, one per token, not all at once")
    func reservationsAreSpaced() {
        var limiter = Limiter(limits: AccountLimits(rate: 10, burst: 1))
        _ = limiter.reserve(now: clock.now, date: noon)
        var waits: [Duration] = []
        for _ in 0..<3 {
            if case .wait(let until, reserved: true) = limiter.reserve(now: clock.now, date: noon) {
                waits.append(clock.now.duration(to: until))
            }
        }
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(300)])
    }

    @Test("a share scales the rate and the burst: half the partitions, half the rate")
    func shareScalesRate() {
        var limiter = Limiter(limits: AccountLimits(rate: 200, burst: 50))
        limiter.setShare(0.5, now: clock.now)
        #expect(limiter.rate == 100)
        #expect(reserve(&limiter, 25).now == 25)
        #expect(reserve(&limiter, 1).lastWait == .milliseconds(10))
        limiter.setShare(1, now: clock.now)
        #expect(limiter.rate == 200)
    }

    @Test("the counted daily quota stops at this instance's part, until the reset")
    func dailyQuotaCounted() {
        var limiter = Limiter(limits: AccountLimits(dailyQuota: 100))
        limiter.setShare(0.25, now: clock.now)
        #expect(limiter.dailyBudget == 25)
        #expect(reserve(&limiter, 25).now == 25)
        guard case .wait(let until, reserved: false) = limiter.reserve(now: clock.now, date: noon) else {
            Issue.record("the 26th send went")
            return
        }
        // Noon UTC is 20:00 in Beijing: the quota starts over in 4 hours.
        #expect(clock.now.duration(to: until) == .seconds(4 * 3600))
    }

    @Test("the quota day rolls over at midnight Asia/Shanghai, not at UTC midnight")
    func quotaDayRollsOverInShanghai() {
        var limiter = Limiter(limits: AccountLimits(dailyQuota: 1))
        let beforeMidnight = Date(timeIntervalSince1970: 1_796_140_799)  // 15:59:59 UTC = 23:59:59 Beijing
        #expect(limiter.reserve(now: clock.now, date: beforeMidnight) == .go)
        #expect(limiter.reserve(now: clock.now, date: beforeMidnight) != .go)
        let afterMidnight = beforeMidnight.addingTimeInterval(2)  // 00:00:01 Beijing, still 16:00 UTC
        #expect(limiter.reserve(now: clock.now, date: afterMidnight) == .go)
    }

    @Test("WeChat's 45009 blocks the account until the next reset, even with quota left by the count")
    func wechatSaysExhausted() {
        var limiter = Limiter(limits: AccountLimits(rate: 100))
        let reset = limiter.quotaExhausted(date: noon)
        #expect(reset == noon.addingTimeInterval(4 * 3600))
        #expect(limiter.reserve(now: clock.now, date: noon) == .wait(until: clock.now.advanced(by: .seconds(4 * 3600)), reserved: false))
        #expect(limiter.reserve(now: clock.now, date: reset) == .go)
    }

    @Test("quota_reset parses a time and a zone name or offset")
    func quotaResetParsing() throws {
        let shanghai = try #require(QuotaReset(parsing: "00:00 Asia/Shanghai"))
        #expect(shanghai.next(after: noon) == noon.addingTimeInterval(4 * 3600))
        let utc = try #require(QuotaReset(parsing: "06:30 +00:00"))
        #expect(utc.next(after: noon) == noon.addingTimeInterval(18.5 * 3600))
        #expect(QuotaReset(parsing: "24:00 UTC") == nil)
        #expect(QuotaReset(parsing: "midnight") == nil)
        #expect(QuotaReset(parsing: "00:00 Mars/Olympus") == nil)
    }
}

@Suite("Account limiter: the quota WeChat reports")
struct AccountLimiterCalibrationTests {
    @Test("quota/get lowers the daily quota and counts this instance's share of today's use; a huge quota does not overflow")
    func calibration() {
        var limiter = AccountLimiter<ManualClock>(limits: AccountLimits(dailyQuota: 1_000))
        limiter.setShare(0.5, now: ManualClock().now)
        limiter.calibrate(dailyLimit: 400, usedToday: 100, date: Date())
        #expect(limiter.dailyQuota == 400)
        #expect(limiter.dailyBudget == 200)
        #expect(limiter.usedToday == 50)
        limiter.calibrate(dailyLimit: .max, usedToday: 0, date: Date())
        #expect(limiter.dailyQuota == 1_000, "the configured quota is lower")
        var unconfigured = AccountLimiter<ManualClock>(limits: AccountLimits(rate: 10))
        unconfigured.calibrate(dailyLimit: .max, usedToday: 0, date: Date())
        #expect(unconfigured.dailyBudget ?? 0 > 1_000_000_000)
    }
}

@Suite("AccountLimiter: priorities split a bound rate")
struct AccountLimiterPriorityTests {
    let clock = ManualClock()
    let noon = Date(timeIntervalSince1970: 1_796_126_400)

    /// The wait of one more send of `priority` with `parked` priorities waiting.
    func wait(_ limiter: inout AccountLimiter<ManualClock>, priority: Int, parked: Set<Int>) -> (Duration, Bool) {
        let (decision, changed) = limiter.reserve(now: clock.now, date: noon, priority: priority, parked: parked)
        guard case .wait(let until, _) = decision else { return (.zero, changed) }
        return (clock.now.duration(to: until), changed)
    }

    @Test("alone, a priority has the whole rate; with a higher one waiting it keeps the minimum share, the higher one the rest")
    func split() {
        var limiter = AccountLimiter<ManualClock>(limits: AccountLimits(rate: 100, burst: 1), minimumShare: 0.1)
        // Low alone: spaced at the whole rate.
        _ = wait(&limiter, priority: 0, parked: [])
        #expect(wait(&limiter, priority: 0, parked: [0]).0 == .milliseconds(10))
        #expect(limiter.fractions[0] == 1)
        // High arrives while low waits: the split moves (low's reservations must ask again).
        let (_, changed) = wait(&limiter, priority: 1, parked: [0])
        #expect(changed)
        #expect(limiter.fractions == [0: 0.1, 1: 0.9])
        var high: Duration = .zero
        var low: Duration = .zero
        for _ in 0..<9 { high = wait(&limiter, priority: 1, parked: [0, 1]).0 }
        for _ in 0..<2 { low = wait(&limiter, priority: 0, parked: [0, 1]).0 }
        // 90/s for high (its 10th send ≈ 100 ms out), 10/s for low (its 2nd ≈ 100–200 ms out).
        #expect(high > .milliseconds(95) && high < .milliseconds(115), "\(high)")
        #expect(low >= .milliseconds(100) && low <= .milliseconds(200), "\(low)")
    }

    @Test("a priority without demand for a second gives its part back")
    func demandEnds() {
        var limiter = AccountLimiter<ManualClock>(limits: AccountLimits(rate: 100, burst: 1), minimumShare: 0.2)
        _ = wait(&limiter, priority: 1, parked: [])
        _ = wait(&limiter, priority: 0, parked: [1])
        #expect(limiter.fractions == [0: 0.2, 1: 0.8])
        clock.advance(by: .seconds(2))
        let (_, changed) = wait(&limiter, priority: 0, parked: [])
        #expect(changed)
        #expect(limiter.fractions[0] == 1)
    }

    @Test("one priority only (no priorities configured): never a split change")
    func single() {
        var limiter = AccountLimiter<ManualClock>(limits: AccountLimits(rate: 10))
        for _ in 0..<50 {
            #expect(limiter.reserve(now: clock.now, date: noon, priority: 0, parked: [0]).splitChanged == false)
            clock.advance(by: .milliseconds(30))
        }
    }
}

@Suite("AccountLimiter: forgotten reservations")
struct AccountLimiterForgetTests {
    let clock = ManualClock()
    let noon = Date(timeIntervalSince1970: 1_796_126_400)

    @Test("forgotten reservations give their quota back and hand out no time twice")
    func forgetGivesBack() {
        var limiter = AccountLimiter<ManualClock>(limits: AccountLimits(rate: 10, burst: 1, dailyQuota: 1_000))
        for _ in 0..<11 { _ = limiter.reserve(now: clock.now, date: noon) }
        #expect(limiter.usedToday == 11)
        clock.advance(by: .milliseconds(500))
        // 10 reservations at 10/s, half a second later: 5 of them are due, 5 still ahead.
        limiter.forgetReservations(now: clock.now)
        #expect(limiter.usedToday == 6)
        // The bucket was refilled to now before the debt was forgiven: nothing is free at once.
        guard case .wait(let until, reserved: true) = limiter.reserve(now: clock.now, date: noon) else {
            Issue.record("a token was handed out twice")
            return
        }
        #expect(clock.now.duration(to: until) == .milliseconds(100))
    }
}
