import Kafka
import Logging
import Synchronization
import Testing

@testable import Dispatcher

@Suite("SendLimits: an account's change reaches the workers with records waiting on it, and nobody else")
struct SendLimitsTests {
    /// Stands for a worker's mailbox: its identity subscribes, its deliveries are recorded.
    final class Worker: Sendable {
        let name: String
        let heard = Mutex<[String]>([])
        init(_ name: String) { self.name = name }
        var id: ObjectIdentifier { ObjectIdentifier(self) }
    }

    @Test("a change goes to the waiting worker once; a worker that waits again hears the next; a quota reset goes to all")
    func changesReachOnlyTheWaiting() {
        let limits = SendLimits(
            limits: ["a": AccountLimits(rate: 1, burst: 1), "b": AccountLimits(rate: 1, burst: 1)], logger: Logger(label: "test"))
        limits.partition(TopicPartition(topic: "t", partition: 0), assigned: true, totals: ["t": 1])
        let workers = [Worker("w1"), Worker("w2"), Worker("w3")]
        for worker in workers { limits.subscribe(worker.id) { change in worker.heard.withLock { $0.append(change.account) } } }
        func heard() -> [String] { workers.map { "\($0.name):" + $0.heard.withLock { $0.joined(separator: ",") } } }

        #expect(limits.reserve(account: "a", worker: workers[0].id).decision == .go)
        guard case .wait = limits.reserve(account: "a", worker: workers[0].id).decision else {
            Issue.record("the second send of a one-per-second account waits")
            return
        }
        _ = limits.reserve(account: "b", worker: workers[1].id)
        _ = limits.reserve(account: "b", worker: workers[1].id)
        limits.setExchangedShare(0.5, for: "a")
        #expect(heard() == ["w1:a", "w2:", "w3:"], "only the worker waiting on a")
        limits.setExchangedShare(0.2, for: "a")
        #expect(heard() == ["w1:a", "w2:", "w3:"], "w1 hears again only once a record of it waits again")
        _ = limits.reserve(account: "a", worker: workers[0].id)
        limits.setExchangedShare(0.1, for: "a")
        #expect(heard() == ["w1:a,a", "w2:", "w3:"])
        limits.resetQuota(account: "b")
        #expect(heard() == ["w1:a,a,b", "w2:b", "w3:b"], "a quota reset also ends backoffs, which no reservation names")
    }
}
