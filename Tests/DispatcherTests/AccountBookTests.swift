import Dispatcher
import Foundation
import Kafka
import Testing
import Waiting

@Suite("AccountBook: shares, demand, epochs and the changes it posts, on a manual clock")
struct AccountBookTests {
    typealias Book = AccountBook<ManualClock>
    let clock = ManualClock()
    let date = Date(timeIntervalSince1970: 1_796_126_400)

    func assign(_ book: inout Book, _ partitions: Range<Int>, of total: Int) {
        for partition in partitions {
            book.partition(
                TopicPartition(topic: "req", partition: Int32(partition)), assigned: true, totals: ["req": total], now: clock.now)
        }
    }

    func changes(_ book: inout Book) -> [Book.Change] {
        book.takeEvents().compactMap { if case .change(let change) = $0 { change } else { nil } }
    }

    @Test("the share is the partitions assigned here over all of them")
    func partitionShare() {
        var book = Book(limits: ["a": AccountLimits(rate: 300)])
        assign(&book, 0..<2, of: 6)
        #expect(book.partitionShare == 2.0 / 6)
        #expect(book.limiter("a")?.rate == 100)
        #expect(book.takeEvents().last == .share("limits: share 2/6 partitions: a: 100.0/s of 300.0/s, no daily quota", number: 2))
    }

    @Test("a smaller share voids parked reservations: a new epoch, posted to the workers")
    func smallerShare() {
        var book = Book(limits: ["a": AccountLimits(rate: 10, burst: 1)])
        assign(&book, 0..<2, of: 2)
        _ = book.takeEvents()
        #expect(book.reserve(account: "a", priority: 0, holding: nil, now: clock.now, date: date).decision == .go)
        let (decision, epoch) = book.reserve(account: "a", priority: 0, holding: nil, now: clock.now, date: date)
        guard case .wait(_, reserved: true) = decision else { Issue.record("expected a reserved wait, got \(decision)"); return }
        book.parked("a", priority: 0, 1, now: clock.now)
        // Still valid: it goes when its wait ends, without being charged again.
        #expect(book.reserve(account: "a", priority: 0, holding: epoch, now: clock.now, date: date).decision == .go)
        book.partition(TopicPartition(topic: "req", partition: 1), assigned: false, totals: [:], now: clock.now)
        let posted = changes(&book)
        #expect(posted.count == 1)
        #expect(posted.first == Book.Change(account: "a", epoch: epoch + 1, quotaReset: false))
        // Void now: it asks anew (and waits at the new rate).
        if case .go = book.reserve(account: "a", priority: 0, holding: epoch, now: clock.now, date: date).decision {
            Issue.record("a reservation of a void epoch went without asking")
        }
    }

    @Test("demand is the records parked per account, over priorities")
    func demand() {
        var book = Book(limits: ["a": AccountLimits(rate: 10)])
        book.parked("a", priority: 0, 3, now: clock.now)
        book.parked("a", priority: 5, 2, now: clock.now)
        book.parked("a", priority: 0, -1, now: clock.now)
        #expect(book.demand(of: "a") == 4)
        #expect(book.demand(of: "b") == 0)
    }

    @Test("an operator's quota reset is posted to every worker, and ends 45009 backoffs")
    func quotaReset() {
        var book = Book(limits: ["a": AccountLimits(dailyQuota: 10)])
        _ = book.quotaExhausted(account: "a", date: date)
        book.resetQuota(account: "a", now: clock.now)
        let posted = changes(&book)
        #expect(posted.count == 1)
        #expect(posted.first?.quotaReset == true)
    }

    @Test("a larger budget from WeChat is a change; a smaller one is not")
    func calibration() {
        var book = Book(limits: ["a": AccountLimits(dailyQuota: 100)])
        assign(&book, 0..<1, of: 1)
        book.parked("a", priority: 0, 1, now: clock.now)
        _ = book.takeEvents()
        book.calibrate(account: "a", dailyLimit: 50, usedToday: 0, now: clock.now, date: date)
        #expect(changes(&book).isEmpty)
        #expect(book.limiter("a")?.dailyBudget == 50)
        // WeChat's limit went up again (up to the configured 100).
        book.calibrate(account: "a", dailyLimit: 1000, usedToday: 0, now: clock.now, date: date)
        #expect(changes(&book).map(\.account) == ["a"])
    }

    @Test("an open circuit holds sends unreserved until its probe, and says so once")
    func circuit() {
        var book = Book(limits: [:], breakers: ["a"], breaker: .init(threshold: 2, open: .seconds(5)))
        book.answered(account: "a", healthy: false, now: clock.now)
        book.answered(account: "a", healthy: false, now: clock.now)
        #expect(book.circuitsOpen == ["a": true])
        let logs = book.takeEvents().filter { if case .log(.warning, _) = $0 { true } else { false } }
        #expect(logs.count == 1)
        #expect(
            book.reserve(account: "a", priority: 0, holding: nil, now: clock.now, date: date).decision
                == .wait(until: clock.now.advanced(by: .seconds(5)), reserved: false))
        clock.advance(by: .seconds(5))
        #expect(book.reserve(account: "a", priority: 0, holding: nil, now: clock.now, date: date).decision == .go)
    }

    @Test("a second priority with demand moves the split: the first one's parked records ask again")
    func prioritySplit() {
        var book = Book(limits: ["a": AccountLimits(rate: 100, burst: 1)], minimumShare: 0.1)
        assign(&book, 0..<1, of: 1)
        book.parked("a", priority: 0, 1, now: clock.now)
        _ = book.reserve(account: "a", priority: 0, holding: nil, now: clock.now, date: date)
        _ = book.takeEvents()
        _ = book.reserve(account: "a", priority: 9, holding: nil, now: clock.now, date: date)
        #expect(book.limiter("a")?.fractions[9] == 0.9)
        #expect(changes(&book).map(\.account) == ["a"])
    }
}
