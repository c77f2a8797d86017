import ArgumentParser
import Dispatcher
import Foundation
import Kafka
import Logging

/// `wxpush dlq list|replay --config FILE`: what the dead-letter topic holds, by reason, and its
/// requests produced again to the topics they came from once the cause is fixed. The ids stay, so
/// the sent log and `client_msg_id` still keep a user from getting one message twice.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Lists the dead-letter topic by reason, or replays its requests to their topics.",
        subcommands: [List.self, Replay.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The configuration file (brokers and the dlq topic; AppSecrets are not needed).")
        var config: String = ConfigurationLoader.defaultPath

        @Option(help: "Only copies with this reason code (e.g. errcode_terminal, retries_exhausted).")
        var reasonCode: String?

        @Option(help: "Only copies written since: a duration ago (2h, 30m) or an RFC 3339 time.")
        var since: String?

        @Option(help: "Only copies written until: a duration ago or an RFC 3339 time.")
        var until: String?

        func instant(_ text: String?, _ name: String) throws -> Date? {
            guard let text else { return nil }
            if let ago = DurationText.parse(text) { return Date().addingTimeInterval(-Double(ago.components.seconds)) }
            if let date = Timestamp.parse(text) { return date }
            throw ValidationError("--\(name) \"\(text)\": write a duration (2h, 30m) or an RFC 3339 time (2026-12-07T12:00:00Z)")
        }

        func validate() throws {
            _ = try instant(since, "since")
            _ = try instant(until, "until")
        }

        /// The configuration and the copies that match, in partition and offset order.
        func read() async throws -> (ResolvedConfiguration, [DeadLetterCopy]) {
            LogSetup.bootstrap(defaultLevel: .error)
            let resolved = try CheckConfigCommand.loadOrExplain(config, requiresSecrets: false)
            let reader = try KafkaPartitionReader(configuration: resolved.kafka, logger: Logger(label: "wxpush.dlq"))
            let (from, to) = (try instant(since, "since"), try instant(until, "until"))
            let records = try await reader.readAll(resolved.settings.deadLetterTopic, since: from)
            let copies = records.filter { record in
                guard let to, let written = record.timestampMilliseconds else { return true }
                return Double(written) / 1000 <= to.timeIntervalSince1970
            }.map(DeadLetterCopy.init).filter { reasonCode == nil || $0.reasonCode == reasonCode }
            return (resolved, copies)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Counts the copies by reason code, with a few samples of each.")
        @OptionGroup var options: Options

        func run() async throws {
            let (resolved, copies) = try await options.read()
            print("\(resolved.settings.deadLetterTopic): \(copies.count) copies")
            for (code, group) in Dictionary(grouping: copies, by: \.reasonCode).sorted(by: { $0.value.count > $1.value.count }) {
                print("  \(code.isEmpty ? "(none)" : code): \(group.count)")
                for copy in group.prefix(3) { print("    \(DLQCommand.describe(copy))") }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Produces each copy's original request (key, bytes, trace headers) to the topic it came from.")
        @OptionGroup var options: Options

        @Option(help: "Records produced per second at most.")
        var rate: Double = 50

        @Flag(help: "Print what would be replayed; produce nothing.")
        var dryRun = false

        func validate() throws {
            guard rate > 0 && rate <= 100_000 else { throw ValidationError("--rate must be above 0 and at most 100000") }
        }

        func run() async throws {
            let (resolved, copies) = try await options.read()
            let replays = copies.compactMap { copy in copy.replay.map { (copy, $0) } }
            if replays.count < copies.count {
                print("skipped \(copies.count - replays.count) copies: cut to fit the topic (wxpush-truncated) or without wxpush-source")
            }
            for (topic, group) in Dictionary(grouping: replays, by: \.1.topic).sorted(by: { $0.key < $1.key }) {
                print("\(dryRun ? "would replay" : "replaying") \(group.count) to \(topic)")
            }
            if dryRun {
                for (copy, _) in replays.prefix(10) { print("  \(DLQCommand.describe(copy))") }
                return
            }
            let producer = try KafkaProducer(configuration: resolved.kafka, logger: Logger(label: "wxpush.dlq"))
            let spacing = Duration.seconds(1 / rate)
            var next = ContinuousClock.now
            for (index, (_, record)) in replays.enumerated() {
                try await Task.sleep(until: next)
                next = max(next + spacing, .now - .seconds(1))
                _ = try await producer.send(record)
                if (index + 1) % 100 == 0 || index + 1 == replays.count { print("replayed \(index + 1)/\(replays.count)") }
            }
            try await producer.flush(timeout: .seconds(10))
        }
    }

    static func describe(_ copy: DeadLetterCopy) -> String {
        let source = copy.source.map { "\($0.topic)/\($0.partition)/\($0.offset)" } ?? "?"
        return "id \(copy.requestID ?? "(unreadable)") from \(source): \(Outcome.cap(copy.error, 160))"
    }
}
