import Foundation
import Kafka
import Logging
import Synchronization

/// Produces request events keyed by openid and remembers when each was produced.
public final class LoadGenerator: Sendable {
    private let producer: KafkaProducer
    private let topic: String
    private let producedAt = Mutex<[String: Double]>([:])
    /// Delivery failures not reported yet (by the next flushing `produce`).
    private let failures = Atomic<Int>(0)

    public init(kafka: KafkaConfiguration, topic: String) throws {
        var logger = Logger(label: "wxpush.load")
        logger.logLevel = .warning
        producer = try KafkaProducer(configuration: kafka, logger: logger)
        self.topic = topic
    }

    /// Produces every event, then (with `flush`) waits for all delivery reports. Keyed by openid; with
    /// `partitions`, each openid goes to one of those instead (a skewed load).
    public func produce(_ events: [SampleEvents.Event], onlyTo partitions: [Int32]? = nil, flush: Bool = true) async throws {
        let handler = KafkaDeliveryHandler { [self] in if case .failure = $0 { failures.add(1, ordering: .relaxed) } }
        for event in events {
            producedAt.withLock { $0[event.id] = Date().timeIntervalSince1970 }
            let hash = event.openid.utf8.reduce(5381) { $0 &* 33 &+ Int($1) } & Int.max
            let partition = partitions.map { $0[hash % $0.count] }
            try await producer.enqueueWhenRoom(
                KafkaRecord(topic: topic, partition: partition, key: Array(event.openid.utf8), value: event.bytes), handler: handler)
        }
        guard flush else { return }
        try await producer.flush(timeout: .seconds(120))
        let failed = failures.exchange(0, ordering: .relaxed)
        if failed > 0 { throw HarnessError("\(failed) request events were not delivered to Kafka") }
    }

    /// Request ids of warm-up events start with this.
    public static let warmUpPrefix = "warmup-"

    /// One valid event to each partition, not timed: its outcome shows that partition is being
    /// dispatched. Pre-rendered, so a dispatcher without rules (the Go peer) sends it too.
    public func warmUp(partitions: Int) async throws {
        let runID = UUID().uuidString.prefix(6).lowercased()
        for partition in 0..<partitions {
            let id = "\(Self.warmUpPrefix)\(runID)-\(partition)"
            let event = SampleEvents.rawTemplate(id: id, openid: id, index: partition)
            _ = try await producer.send(
                KafkaRecord(topic: topic, partition: Int32(partition), key: Array(id.utf8), value: Array(event.utf8)))
        }
    }

    /// Seconds since the epoch when the event was handed to the producer.
    public func producedTime(of id: String) -> Double? { producedAt.withLock { $0[id] } }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
