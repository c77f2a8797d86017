import Dispatcher
import Foundation
import Testing

@Suite("RecentSends: one message per id within the window, bounded by bytes")
struct RecentSendsTests {
    let start = Date(timeIntervalSince1970: 1_795_338_000)

    @Test("an id sent within the window is answered with its first send; after the window it is new again")
    func window() {
        var recent = RecentSends(window: 3600)
        recent.sent("order-1", msgid: 11, at: start)
        recent.sent("order-1", msgid: 12, at: start.addingTimeInterval(10))
        let first = recent.first("order-1", now: start.addingTimeInterval(1800))
        #expect(first?.msgid == 11 && first?.at == start, "the first send answers")
        #expect(recent.first("order-2", now: start.addingTimeInterval(1800)) == nil)
        #expect(recent.first("order-1", now: start.addingTimeInterval(3601)) == nil)
        #expect(recent.count == 0)
    }

    @Test("a window of 0 remembers nothing")
    func off() {
        var recent = RecentSends(window: 0)
        recent.sent("order-1", msgid: 11, at: start)
        #expect(recent.first("order-1", now: start) == nil)
    }

    @Test("past its bytes the oldest ids are forgotten and counted")
    func bounded() {
        var recent = RecentSends(window: 86_400, maxBytes: 1024)
        let ids = (0..<20).map { "order-\($0)" }
        for (index, id) in ids.enumerated() { recent.sent(id, msgid: Int64(index), at: start.addingTimeInterval(Double(index))) }
        #expect(recent.count == 1024 / RecentSendsTests.cost("order-10"))
        #expect(recent.forgotten == 20 - recent.count)
        #expect(recent.first("order-0", now: start.addingTimeInterval(30)) == nil)
        #expect(recent.first("order-19", now: start.addingTimeInterval(30))?.msgid == 19)
    }

    static func cost(_ id: String) -> Int { id.utf8.count + 180 }
}
