import Dispatcher
import Foundation
import Kafka
import Logging
import Synchronization

/// Reads the results topic while a run goes on (the embedded cluster keeps only 5 MB per
/// partition), keeping every outcome by request id with the time the dispatcher produced it.
public final class OutcomeCollector: Sendable {
    public struct Received: Sendable {
        public let outcome: OutcomeRecord
        /// Seconds since the epoch of the outcome record (its producer timestamp).
        public let producedAt: Double?
        /// The transaction that carried it (header `wxpush-txn`), with exactly-once on.
        public let transaction: String?
        /// Its `traceparent` header, carried from the request.
        public let traceparent: String?
    }

    let consumer: KafkaConsumer
    private let state = State()
    private let running = Mutex<Task<Void, any Error>?>(nil)

    private final class State: Sendable {
        let received = Mutex<[String: [Received]]>([:])
        let total = Atomic<Int>(0)
        let receipts = Mutex<[ReceiptRecord]>([])
        /// Per partition, the next offset not read yet: a partition read again after the reader
        /// lost and regained it (a broker outage) is not counted twice.
        let next = Mutex<[Int32: Int64]>([:])
    }

    public init(kafka: KafkaConfiguration, topic: String) throws {
        // A reader of the results: its connection trouble in outage scenarios is expected noise.
        var logger = Logger(label: "wxpush.harness.outcomes")
        logger.logLevel = .critical
        // A group of one: range, not cooperative-sticky (librdkafka 2.0.2 asserts when a
        // cooperative consumer is destroyed before its first assignment, #4312).
        var kafka = kafka
        kafka.properties["partition.assignment.strategy"] = "range"
        consumer = try KafkaConsumer(
            configuration: kafka, groupID: "outcome-collector-\(UUID().uuidString.prefix(8))", topics: [topic], logger: logger
        )
    }

    public func start() {
        let task = Task { [consumer, state] in
            try await consumer.run { partition in
                for await message in partition.messages {
                    let fresh = state.next.withLock { next in
                        defer { next[message.partition] = max(next[message.partition] ?? 0, message.offset + 1) }
                        return message.offset >= next[message.partition] ?? 0
                    }
                    guard fresh else { continue }
                    if let receipt = ReceiptRecord.decode(message.value) {
                        state.receipts.withLock { $0.append(receipt) }
                        continue
                    }
                    guard let outcome = OutcomeRecord.decode(message.value) else { continue }
                    let entry = Received(
                        outcome: outcome, producedAt: message.timestampMilliseconds.map { Double($0) / 1000 },
                        transaction: message.header("wxpush-txn").map { String(decoding: $0, as: UTF8.self) },
                        traceparent: message.header("traceparent").map { String(decoding: $0, as: UTF8.self) })
                    state.received.withLock { $0[outcome.id, default: []].append(entry) }
                    state.total.add(1, ordering: .relaxed)
                }
            }
        }
        running.withLock { $0 = task }
    }

    public var count: Int { state.total.load(ordering: .relaxed) }
    /// The `receipt` records read so far, in arrival order.
    public var receipts: [ReceiptRecord] { state.receipts.withLock { $0 } }
    public var distinctIDs: Int { state.received.withLock { $0.count } }
    public var all: [String: [Received]] { state.received.withLock { $0 } }

    /// Waits until `ids` distinct request ids have an outcome, at most `timeout`.
    public func waitFor(ids: Int, timeout: Duration, progress: (@Sendable (Int) -> Void)? = nil) async throws {
        let deadline = ContinuousClock.now + timeout
        var lastReport = ContinuousClock.now
        while distinctIDs < ids {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("only \(distinctIDs) of \(ids) requests have an outcome after \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
            if let progress, ContinuousClock.now - lastReport >= .seconds(1) {
                lastReport = .now
                progress(distinctIDs)
            }
        }
    }

    public func stop() async {
        consumer.triggerGracefulShutdown()
        _ = try? await running.withLock { $0 }?.value
    }
}
