import Foundation
import Kafka
import Logging
import Synchronization
import Testing

/// Unique names per test, so tests never share topics or groups.
func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8))" }

func testConfiguration(_ cluster: EmbeddedKafka, _ extra: [String: String] = [:]) -> KafkaConfiguration {
    KafkaConfiguration(
        bootstrapServers: cluster.bootstrapServers,
        properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "log_level": "3"].merging(extra) { $1 }
    )
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 50 ms until it holds, failing after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TimedOut(what: what)
}

/// A thread-safe box for what handlers observe.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
    var value: Value { mutex.withLock { $0 } }
}

/// Runs a consumer in a background task and stops it (gracefully) at the end of `body`.
func withRunningConsumer<R>(
    _ consumer: KafkaConsumer, handler: @escaping @Sendable (KafkaPartition) async -> Void,
    _ body: () async throws -> R
) async throws -> R {
    let running = Task { try await consumer.run(handler) }
    do {
        let result = try await body()
        consumer.triggerGracefulShutdown()
        try await running.value
        return result
    } catch {
        consumer.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

/// Produces `count` keyed records and waits for all delivery reports.
func produce(_ producer: KafkaProducer, topic: String, count: Int, key: (Int) -> String, value: (Int) -> String) async throws {
    let delivered = Locked(0)
    let failures = Locked([KafkaError]())
    let handler = KafkaDeliveryHandler { result in
        switch result {
        case .success: delivered.withLock { $0 += 1 }
        case .failure(let error): failures.withLock { $0.append(error) }
        }
    }
    for index in 0..<count {
        try await producer.enqueueWhenRoom(KafkaRecord(topic: topic, key: key(index), value: value(index)), handler: handler)
    }
    try await producer.flush()
    #expect(failures.value.isEmpty)
    #expect(delivered.value == count)
}

/// Warnings and above only: a green run reads in one screen (assignments are logged at info).
let quiet: Logger = {
    var logger = Logger(label: "wxpush.test.kafka")
    logger.logLevel = .warning
    return logger
}()

/// For scenarios that take the brokers away on purpose: their connection errors are expected.
let silent: Logger = {
    var logger = Logger(label: "wxpush.test.kafka.faults")
    logger.logLevel = .critical
    return logger
}()
