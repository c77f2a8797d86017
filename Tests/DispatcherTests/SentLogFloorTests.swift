import Foundation
import Kafka
import Testing

@testable import Dispatcher

@Suite("The sent log's floor")
struct SentLogFloorTests {
    typealias State = SentLogState

    @Test("a record's entry stays findable until the commit point passes it, published or not")
    func keptUntilCommitted() {
        var state = State(partition: TopicPartition(topic: "sent", partition: 0), alreadySent: [:], next: 100)
        #expect(state.floor(committed: 0) == 100)
        state.writing(5)
        state.written(at: 100)
        state.writing(7)
        // 7's write is in flight: its entry gets at least 101.
        #expect(state.floor(committed: 3) == 100)
        state.written(at: 101)
        // 5 is done (its outcome out) but the commit point is still below it: a done offset may be
        // left out of the commit's metadata, so its entry must still be read.
        #expect(state.floor(committed: 5) == 100)
        #expect(state.floor(committed: 6) == 101)
        #expect(state.floor(committed: 8) == 102)
    }

    @Test("records answered from the log keep their entries in reach until committed")
    func alreadySentStayInReach() {
        var state = State(partition: TopicPartition(topic: "sent", partition: 0), alreadySent: [:], next: 500)
        state.logged.insert(.init(logOffset: 420, requestOffset: 40))
        state.writing(41)
        #expect(state.floor(committed: 30) == 420)
        #expect(state.floor(committed: 41) == 500)
    }
}
