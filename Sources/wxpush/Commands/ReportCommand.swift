import ArgumentParser
import Foundation
import Kafka
import Logging

/// `wxpush report --config FILE [--since 1h]`: the results topic summed up (outcomes by status per
/// account and type, delivery rate from receipts, send latency, top reasons).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reads the results topic and prints outcomes, delivery rates, latency and top reasons per account and type."
    )

    @Option(help: "The configuration file (brokers and the results topic).")
    var config: String = ConfigurationLoader.defaultPath

    @Option(help: "Only records produced within this long, e.g. 1h, 30m; all retained when omitted.")
    var since: String?

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let resolved = try CheckConfigCommand.loadOrExplain(config)
        var start: Date?
        if let since {
            guard let window = DurationText.parse(since) else { throw ValidationError("--since \(since): write it like 1h, 30m or 90s") }
            start = Date().addingTimeInterval(-window.seconds)
        }
        let topic = resolved.settings.resultsTopic
        let reader = try KafkaPartitionReader(configuration: resolved.kafka, logger: Logger(label: "wxpush.report"))
        let partitions = (0..<Int32(try await reader.partitionCount(of: topic))).map { TopicPartition(topic: topic, partition: $0) }
        // Where the window starts, by the brokers' time index; where that gives nothing (every
        // record older, or a broker without the index) read all and filter by record time.
        var firsts: [TopicPartition: Int64?] = [:]
        if let start { firsts = (try? await reader.offsets(partitions, atOrAfter: start)) ?? [:] }
        let startMilliseconds = start.map { Int64($0.timeIntervalSince1970 * 1000) } ?? .min
        var report = ResultsReport()
        for partition in partitions {
            let watermarks = try await reader.watermarks(for: partition)
            let first = firsts[partition].flatMap { $0 } ?? watermarks.low
            for message in try await reader.read(partition, from: first, timeout: .seconds(120))
            where message.timestampMilliseconds ?? .max >= startMilliseconds {
                report.add(message.value)
            }
        }
        print(report.text(topic: topic, since: start))
    }
}
