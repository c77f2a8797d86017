import ArgumentParser
import Foundation
import Kafka
import Logging
import Synchronization

/// `wxpush demo`: the pipeline on the embedded default. Until the dispatcher lands, a round trip of
/// sample request events through the embedded Kafka.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Runs the pipeline on an embedded Kafka with sample events and prints a summary."
    )

    @Option(help: "Sample events to produce.")
    var events: Int = 10_000

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let cluster = try EmbeddedKafka()
        try cluster.createTopic("wxpush.requests", partitions: 6)
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: ["session.timeout.ms": "6000"])
        print("embedded Kafka at \(cluster.bootstrapServers); producing \(events) sample events")
        let producer = try KafkaProducer(configuration: configuration)
        let start = ContinuousClock.now
        let ignore = KafkaDeliveryHandler { _ in }
        for index in 0..<events {
            let openid = "o-demo-\(index % 500)"
            let event = #"{"v":1,"id":"demo-\#(index)","type":"order.shipped","to":"\#(openid)","data":{"order":{"id":"\#(index)"}}}"#
            try await producer.enqueueWhenRoom(KafkaRecord(topic: "wxpush.requests", key: openid, value: event), handler: ignore)
        }
        try await producer.flush()
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "wxpush-demo", topics: ["wxpush.requests"])
        let received = Atomic<Int>(0)
        let target = events
        try await consumer.run { partition in
            for await message in partition.messages {
                try? consumer.storeOffset(message.offset + 1, for: partition.topicPartition)
                if received.add(1, ordering: .relaxed).newValue == target { consumer.triggerGracefulShutdown() }
            }
        }
        let seconds = (ContinuousClock.now - start).seconds
        print(String(format: "round trip: %d events produced and consumed in %.2f s", received.load(ordering: .relaxed), seconds))
    }
}
