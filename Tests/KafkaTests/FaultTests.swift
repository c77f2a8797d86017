import Kafka
import Testing

@Suite("Faults injected into the embedded cluster")
struct FaultTests {
    @Test("a non-retriable produce error surfaces as a typed KafkaError")
    func injectedProduceError() async throws {
        let cluster = try EmbeddedKafka(logger: quiet)
        let topic = unique("fault")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: testConfiguration(cluster), logger: silent)
        try await producer.send(KafkaRecord(topic: topic, key: "warm", value: "up"))
        cluster.injectRequestErrors(.produce, [.topicAuthorizationFailed])
        let error = await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaRecord(topic: topic, key: "k", value: "v"))
        }
        #expect(error?.code == .topicAuthorizationFailed)
        #expect(error?.isRetriable == false)
    }

    @Test("retriable produce errors are retried inside the producer")
    func retriableProduceErrors() async throws {
        let cluster = try EmbeddedKafka(logger: quiet)
        let topic = unique("retry")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: testConfiguration(cluster), logger: silent)
        try await producer.send(KafkaRecord(topic: topic, key: "warm", value: "up"))
        cluster.injectRequestErrors(.produce, [.notEnoughReplicas, .notEnoughReplicas, .notLeaderForPartition])
        let report = try await producer.send(KafkaRecord(topic: topic, key: "k", value: "v"))
        #expect(report.offset == 1)
    }

    @Test("a broker down and up during a run of sends loses nothing and duplicates nothing")
    func brokerBounce() async throws {
        let cluster = try EmbeddedKafka(logger: quiet)
        let topic = unique("bounce")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(configuration: testConfiguration(cluster), logger: silent)
        let count = 3_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await produce(producer, topic: topic, count: count, key: { "k\($0 % 50)" }, value: { "m\($0)" })
            }
            group.addTask {
                // Down while sends are on their way (the outage itself lasts 1.5 s).
                let deadline = ContinuousClock.now + .seconds(5)
                while producer.outstanding == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
                try cluster.setBrokerDown(1)
                try await Task.sleep(for: .milliseconds(1_500))
                try cluster.setBrokerUp(1)
            }
            try await group.waitForAll()
        }
        let consumer = try KafkaConsumer(configuration: testConfiguration(cluster), groupID: unique("g"), topics: [topic], logger: silent)
        let values = Locked([String]())
        try await withRunningConsumer(
            consumer,
            handler: { partition in
                for await message in partition.messages { values.withLock { $0.append(String(decoding: message.value, as: UTF8.self)) } }
            }
        ) {
            try await eventually("\(count) messages") { values.value.count >= count }
        }
        #expect(values.value.count == count)
        #expect(Set(values.value).count == count)
        // The log itself holds each record once (the idempotent producer wrote no duplicate).
        let reader = try KafkaPartitionReader(configuration: testConfiguration(cluster), logger: quiet)
        var stored: Int64 = 0
        for partition in 0..<3 {
            let marks = try await reader.watermarks(for: TopicPartition(topic: topic, partition: Int32(partition)))
            stored += marks.high - marks.low
        }
        #expect(stored == Int64(count))
    }
}
