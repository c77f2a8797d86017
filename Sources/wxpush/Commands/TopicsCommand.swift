import ArgumentParser
import Dispatcher
import Foundation
import Kafka
import Logging

/// `wxpush topics plan|create|check --config FILE`: the topics a configuration needs, created or
/// compared with what the brokers have (the check `wxpush run` makes at start).
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Plans, creates or checks the Kafka topics a configuration needs.",
        subcommands: [Plan.self, Create.self, Check.self]
    )

    struct Options: ParsableArguments {
        @Option(help: "The configuration file (AppSecrets are not needed).")
        var config: String = ConfigurationLoader.defaultPath

        @Option(help: "Partitions of the requests topics when they do not exist yet (an existing one gives its own count).")
        var partitions: Int = TopicPlan.defaultRequestPartitions

        @Option(help: "Replication factor to create with (at most the brokers' count); default 3.")
        var replicationFactor: Int = 3

        func validate() throws {
            guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1 (got \(partitions))") }
            guard replicationFactor >= 1 else { throw ValidationError("--replication-factor must be at least 1") }
        }

        func load() throws -> ResolvedConfiguration { try CheckConfigCommand.loadOrExplain(config, requiresSecrets: false) }

        /// The plan: as given without brokers, as they allow with them (`TopicPlan.reading`).
        func plan(_ resolved: ResolvedConfiguration, admin: KafkaAdmin?) async throws -> TopicPlan {
            let sharesLimits = !resolved.limits.isEmpty
            guard let admin else {
                return TopicPlan(
                    settings: resolved.settings, sharesLimits: sharesLimits, requestPartitions: partitions,
                    replicationFactor: replicationFactor)
            }
            return try await TopicPlan.reading(
                admin, settings: resolved.settings, sharesLimits: sharesLimits, requestPartitions: partitions,
                replicationFactor: replicationFactor)
        }
    }

    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Prints each topic with what it needs and why (no broker needed).")
        @OptionGroup var options: Options

        func run() async throws {
            let plan = try await options.plan(try options.load(), admin: nil)
            for topic in plan.topics { print(TopicsCommand.describe(topic, replication: plan.replicationFactor)) }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Creates the missing topics as planned (existing ones are left as they are), then checks them all.")
        @OptionGroup var options: Options

        func run() async throws {
            let resolved = try options.load()
            let admin = try TopicsCommand.admin(resolved)
            let plan = try await options.plan(resolved, admin: admin)
            let (found, _) = try await plan.survey(admin, configsTimeout: .seconds(5))
            let missing = plan.newTopics.filter { found[$0.name]?.shape == nil }
            let answers = missing.isEmpty ? [:] : try await admin.create(missing)
            var failed = false
            for topic in plan.topics {
                switch answers[topic.name] {
                case nil: print("exists   \(topic.name)")
                case .some(nil): print("created  \(topic.name)")
                case .some(let error?) where error.code == .topicAlreadyExists: print("exists   \(topic.name)")
                case .some(let error?):
                    failed = true
                    print("FAILED   \(topic.name): \(error)")
                }
            }
            try await TopicsCommand.report(plan, admin: admin, failed: failed)
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compares the brokers' topics with the plan; exit 1 naming each mismatch with its fix.")
        @OptionGroup var options: Options

        func run() async throws {
            let resolved = try options.load()
            let admin = try TopicsCommand.admin(resolved)
            try await TopicsCommand.report(try await options.plan(resolved, admin: admin), admin: admin, failed: false)
        }
    }

    static func admin(_ resolved: ResolvedConfiguration) throws -> KafkaAdmin {
        LogSetup.bootstrap(defaultLevel: .error)
        return try KafkaAdmin(configuration: resolved.kafka, logger: Logger(label: "wxpush.topics"))
    }

    /// Prints the check's verdict; exit 1 on problems (or `failed`).
    static func report(_ plan: TopicPlan, admin: KafkaAdmin, failed: Bool) async throws {
        let (found, unread) = try await plan.survey(admin, configsTimeout: .seconds(5))
        let verdict = plan.check(found)
        if let unread { print("note: configurations not checked, the brokers did not describe them (\(unread))") }
        for warning in verdict.warnings { print("warning: \(warning)") }
        for problem in verdict.problems { print("problem: \(problem)") }
        guard verdict.problems.isEmpty, !failed else { throw ExitCode(1) }
        print("OK: \(plan.topics.count) topics fit the plan")
    }

    static func describe(_ topic: TopicPlan.Topic, replication: Int) -> String {
        let partitions =
            switch topic.required {
            case .any: "\(topic.partitions)"
            case .exactly(let count): "exactly \(count)"
            case .likeRequests: "\(topic.partitions) (as many as the requests topic)"
            }
        let configs = topic.configs.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ", ")
        return """
            \(topic.name)  (\(topic.setting))
              partitions \(partitions), replication \(replication), \(configs)
              why: \(topic.why)
            """
    }
}
