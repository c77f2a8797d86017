import Foundation
import Kafka
import Synchronization

/// The binding's side of `bench kafka`.
enum KafkaBenchmark {
    static func produce(configuration: KafkaConfiguration, topic: String, count: Int, size: Int) async throws -> Throughput {
        let producer = try KafkaProducer(configuration: configuration)
        let failures = Atomic<Int>(0)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let start = ContinuousClock.now
        for _ in 0..<count {
            try await producer.enqueueWhenRoom(KafkaRecord(topic: topic, key: nil, value: payload)) { result in
                if case .failure = result { failures.add(1, ordering: .relaxed) }
            }
        }
        try await producer.flush(timeout: .seconds(300))
        let elapsed = (ContinuousClock.now - start).seconds
        guard failures.load(ordering: .relaxed) == 0 else {
            throw BenchFailure("\(failures.load(ordering: .relaxed)) deliveries failed")
        }
        return Throughput(messages: count, seconds: elapsed)
    }

    /// Times from the first assignment to the last message, so the group join is not counted.
    static func consume(configuration: KafkaConfiguration, topic: String, count: Int) async throws -> Throughput {
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "bench-\(UUID().uuidString.prefix(6))", topics: [topic])
        let received = Atomic<Int>(0)
        let bytes = Atomic<Int>(0)
        let firstAssigned = Mutex<ContinuousClock.Instant?>(nil)
        let finished = Mutex<ContinuousClock.Instant?>(nil)
        let joinStart = ContinuousClock.now
        try await consumer.run { partition in
            firstAssigned.withLock { if $0 == nil { $0 = .now } }
            for await message in partition.messages {
                bytes.add(message.value.count, ordering: .relaxed)
                if received.add(1, ordering: .relaxed).newValue == count {
                    finished.withLock { $0 = .now }
                    consumer.triggerGracefulShutdown()
                }
            }
        }
        guard let start = firstAssigned.withLock({ $0 }), let end = finished.withLock({ $0 }) else {
            throw BenchFailure("consumer stopped before \(count) messages")
        }
        let join = (start - joinStart).seconds
        return Throughput(messages: count, seconds: (end - start).seconds, note: String(format: "group join %.1f s not counted", join))
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
