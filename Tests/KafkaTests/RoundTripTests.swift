import Foundation
import Kafka
import Testing

@Suite("Produce and consume over TCP against the embedded cluster")
struct RoundTripTests {
    @Test("10,000 keyed messages come back intact; a key always lands on one partition")
    func tenThousandKeyedMessages() async throws {
        let cluster = try EmbeddedKafka(brokers: 3, logger: quiet)
        let topic = unique("roundtrip")
        try cluster.createTopic(topic, partitions: 6)
        let producer = try KafkaProducer(configuration: testConfiguration(cluster), logger: quiet)
        let count = 10_000
        try await produce(producer, topic: topic, count: count, key: { "user-\($0 % 97)" }, value: { "payload-\($0)" })

        let consumer = try KafkaConsumer(configuration: testConfiguration(cluster), groupID: unique("g"), topics: [topic], logger: quiet)
        let received = Locked([KafkaMessage]())
        try await withRunningConsumer(
            consumer,
            handler: { partition in
                for await message in partition.messages { received.withLock { $0.append(message) } }
            }
        ) {
            try await eventually("\(count) messages") { received.value.count >= count }
        }

        let messages = received.value
        #expect(messages.count == count)
        let values = Set(messages.map { String(decoding: $0.value, as: UTF8.self) })
        #expect(values == Set((0..<count).map { "payload-\($0)" }))
        var partitionOfKey: [String: Set<Int32>] = [:]
        for message in messages {
            let key = String(decoding: message.key ?? [], as: UTF8.self)
            partitionOfKey[key, default: []].insert(message.partition)
            #expect(message.topic == topic)
        }
        #expect(partitionOfKey.count == 97)
        #expect(partitionOfKey.values.allSatisfy { $0.count == 1 })
        // Within a partition, records arrive in offset order.
        for partition in Set(messages.map(\.partition)) {
            let offsets = messages.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted())
        }
    }

    @Test("headers survive the round trip")
    func headers() async throws {
        let cluster = try EmbeddedKafka(logger: quiet)
        let topic = unique("headers")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: testConfiguration(cluster), logger: quiet)
        let report = try await producer.send(
            KafkaRecord(topic: topic, key: "k", value: "v", headers: [KafkaHeader(name: "wxpush-error", string: "boom")])
        )
        #expect(report.offset == 0)
        let consumer = try KafkaConsumer(configuration: testConfiguration(cluster), groupID: unique("g"), topics: [topic], logger: quiet)
        let received = Locked([KafkaMessage]())
        try await withRunningConsumer(
            consumer,
            handler: { partition in
                for await message in partition.messages { received.withLock { $0.append(message) } }
            }
        ) {
            try await eventually("one message") { !received.value.isEmpty }
        }
        #expect(received.value.first?.header("wxpush-error") == Array("boom".utf8))
    }
}

@Suite("The librdkafka under test")
struct LibraryTests {
    /// `scripts/test` runs this target twice: with Debian's librdkafka and, through
    /// `LD_LIBRARY_PATH`, with the second lane's (`WXPUSH_EXPECT_LIBRDKAFKA` names the version).
    @Test("prints the librdkafka version it runs with; the expected one when the lane names it")
    func version() {
        print("librdkafka | \(KafkaLibrary.version)")
        if let expected = ProcessInfo.processInfo.environment["WXPUSH_EXPECT_LIBRDKAFKA"] {
            #expect(KafkaLibrary.version.hasPrefix(expected), "loaded \(KafkaLibrary.version), expected \(expected)")
        }
    }
}
