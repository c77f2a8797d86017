import Foundation
import Kafka
import Synchronization
import Waiting

/// The binding's side of `bench kafka`.
enum KafkaBenchmark {
    static func produce(configuration: KafkaConfiguration, topic: String, count: Int, size: Int) async throws -> Throughput {
        let producer = try KafkaProducer(configuration: configuration)
        let failures = Atomic<Int>(0)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        // Keyed, so records spread evenly (null keys stick to one partition for a while); built
        // before the clock starts, as kcat reads its records from a prepared file.
        let records = (0..<count).map { KafkaRecord(topic: topic, key: Array(String($0).utf8), value: payload) }
        let handler = KafkaDeliveryHandler { result in
            if case .failure = result { failures.add(1, ordering: .relaxed) }
        }
        let start = ContinuousClock.now
        for record in records {
            try await producer.enqueueWhenRoom(record, handler: handler)
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
        let progress = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(1))
                FileHandle.standardError.write(Data("  consumed \(received.load(ordering: .relaxed))\n".utf8))
            }
        }
        defer { progress.cancel() }
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
