import ArgumentParser
import Dispatcher
import Foundation
import Kafka
import Logging

/// `wxpush recipients show|lift --app A --openid O`: a recipient's status per scope on the
/// recipients topic, and an operator's lift of a suppression (every instance reads it at once).
struct RecipientsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recipients",
        abstract: "Shows a recipient's suppressions (WeChat said they left or refused), or lifts them.",
        subcommands: [Show.self, Lift.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The configuration file (brokers and the recipients topic; AppSecrets are not needed).")
        var config: String = ConfigurationLoader.defaultPath

        @Option(help: "The account (wechat.accounts.<app>).")
        var app: String = "default"

        @Option(help: "The recipient's openid.")
        var openid: String

        /// The configuration, and the recipient's latest record per scope.
        func read() async throws -> (ResolvedConfiguration, [RecipientRecord]) {
            LogSetup.bootstrap(defaultLevel: .error)
            let resolved = try CheckConfigCommand.loadOrExplain(config, requiresSecrets: false)
            let topic = resolved.settings.recipientsTopic
            guard !topic.isEmpty else { throw ValidationError("kafka.topics.recipients is off (\"\") in \(config)") }
            let reader = try KafkaPartitionReader(configuration: resolved.kafka, logger: Logger(label: "wxpush.recipients"))
            var latest: [String: RecipientRecord] = [:]
            for message in try await reader.readAll(topic) {
                guard let record = RecipientRecord.decode(message.value), record.app == app, record.openid == openid else { continue }
                // The newest word by its time, as every instance takes it (`Suppressions`).
                if (latest[record.scope.text]?.at ?? .distantPast) <= record.at { latest[record.scope.text] = record }
            }
            return (resolved, latest.values.sorted { $0.scope.text < $1.scope.text })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints the recipient's latest status per scope.")
        @OptionGroup var options: Options

        func run() async throws {
            let (_, records) = try await options.read()
            if records.isEmpty { print("\(options.app)/\(options.openid): no status (never suppressed)") }
            for record in records {
                print("\(record.scope.text): \(record.status.rawValue) (\(record.source) at \(Timestamp.format(record.at)))")
            }
        }
    }

    struct Lift: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lifts the recipient's suppressions (or one scope's).")
        @OptionGroup var options: Options

        @Option(help: "Only this scope: official_account, or template:<template_id>.")
        var scope: String?

        func run() async throws {
            if let scope, RecipientRecord.Scope(text: scope) == nil {
                throw ValidationError("--scope \(scope): write official_account or template:<template_id>")
            }
            let (resolved, records) = try await options.read()
            let suppressed = records.filter { $0.status == .suppressed && (scope == nil || $0.scope.text == scope) }
            guard !suppressed.isEmpty else { return print("nothing to lift: \(options.app)/\(options.openid) is not suppressed") }
            let producer = try KafkaProducer(configuration: resolved.kafka, logger: Logger(label: "wxpush.recipients"))
            for record in suppressed {
                let lifted = RecipientRecord(
                    app: record.app, openid: record.openid, scope: record.scope, status: .lifted, source: "operator", at: Date())
                _ = try await producer.send(lifted.record(topic: resolved.settings.recipientsTopic))
                print("lifted \(record.scope.text) (was \(record.source) at \(Timestamp.format(record.at)))")
            }
        }
    }
}
