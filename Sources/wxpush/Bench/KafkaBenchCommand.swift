import ArgumentParser
import Foundation
import Kafka
import Logging

/// `wxpush bench kafka`: the binding against kcat (both librdkafka) on one embedded cluster.
struct KafkaBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produces then consumes N messages through the binding, and the same with kcat as the baseline."
    )

    @Option(name: .short, help: "Messages per run.")
    var count: Int = 1_000_000

    @Option(help: "Message size in bytes.")
    var size: Int = 200

    @Option(help: "Partitions of each benchmark topic (the embedded cluster keeps 5 MB per partition).")
    var partitions: Int = 64

    @Option(name: .customLong("property"), help: "A librdkafka property KEY=VALUE for both clients (repeatable).")
    var extraProperties: [String] = []

    @Flag(help: "Skip the kcat baseline.")
    var noKcat = false

    func validate() throws {
        // librdkafka's mock cluster drops the oldest records beyond 5 MB per partition.
        let perPartition = Double(count) * Double(size + 80) / Double(max(partitions, 1))
        guard perPartition < 4.5 * 1024 * 1024 else {
            throw ValidationError(
                "\(count) × \(size) B over \(partitions) partitions exceeds the embedded cluster's 5 MB per partition; add --partitions")
        }
    }

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let cluster = try EmbeddedKafka(brokers: 1)
        var properties = ["linger.ms": "5", "batch.num.messages": "10000", "queue.buffering.max.messages": "1000000"]
        for pair in extraProperties {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--property \(pair): expected KEY=VALUE") }
            properties[String(parts[0])] = String(parts[1])
        }
        let configuration = KafkaConfiguration(bootstrapServers: cluster.bootstrapServers, properties: properties)
        print("bench kafka: \(count) messages of \(size) bytes, \(partitions) partitions, embedded cluster \(cluster.bootstrapServers)")

        let swiftTopic = "bench-swift-\(UUID().uuidString.prefix(6))"
        try cluster.createTopic(swiftTopic, partitions: partitions)
        let produced = try await KafkaBenchmark.produce(configuration: configuration, topic: swiftTopic, count: count, size: size)
        print(produced.line("binding produce"))
        let consumed = try await KafkaBenchmark.consume(configuration: configuration, topic: swiftTopic, count: count)
        print(consumed.line("binding consume"))

        guard !noKcat else { return }
        let kcatTopic = "bench-kcat-\(UUID().uuidString.prefix(6))"
        try cluster.createTopic(kcatTopic, partitions: partitions)
        let kcat = KcatBaseline(bootstrap: cluster.bootstrapServers, properties: configuration.properties)
        let kcatProduced = try kcat.produce(topic: kcatTopic, count: count, size: size)
        print(kcatProduced.line("kcat produce   "))
        let kcatConsumed = try kcat.consume(topic: kcatTopic, count: count)
        print(kcatConsumed.line("kcat consume   "))
        print(
            String(
                format: "ratio binding/kcat: produce %.2f, consume %.2f",
                produced.rate / kcatProduced.rate, consumed.rate / kcatConsumed.rate))
    }
}

/// A measured run: how many messages in how long.
struct Throughput {
    let messages: Int
    let seconds: Double
    var note: String = ""
    var rate: Double { Double(messages) / seconds }

    func line(_ label: String) -> String {
        String(format: "%@: %d msgs in %.2f s = %.0f msgs/s%@", label, messages, seconds, rate, note.isEmpty ? "" : " (\(note))")
    }
}
