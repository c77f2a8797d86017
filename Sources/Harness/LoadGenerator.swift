import Foundation
import Kafka
import Synchronization

/// Produces request events keyed by openid and remembers when each was produced.
public final class LoadGenerator: Sendable {
    private let producer: KafkaProducer
    private let topic: String
    private let producedAt = Mutex<[String: Double]>([:])

    public init(kafka: KafkaConfiguration, topic: String) throws {
        producer = try KafkaProducer(configuration: kafka)
        self.topic = topic
    }

    /// Produces every event, then waits for all delivery reports.
    public func produce(_ events: [SampleEvents.Event]) async throws {
        let failures = Atomic<Int>(0)
        let handler = KafkaDeliveryHandler { if case .failure = $0 { failures.add(1, ordering: .relaxed) } }
        for event in events {
            producedAt.withLock { $0[event.id] = Date().timeIntervalSince1970 }
            try await producer.enqueueWhenRoom(
                KafkaRecord(topic: topic, key: Array(event.openid.utf8), value: event.bytes), handler: handler)
        }
        try await producer.flush(timeout: .seconds(120))
        let failed = failures.load(ordering: .relaxed)
        if failed > 0 { throw HarnessError("\(failed) request events were not delivered to Kafka") }
    }

    /// Seconds since the epoch when the event was handed to the producer.
    public func producedTime(of id: String) -> Double? { producedAt.withLock { $0[id] } }
}

public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
