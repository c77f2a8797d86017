import Foundation
import Kafka

/// Every topic a configuration uses, with what it needs and why: the one list behind
/// `wxpush topics plan|create|check`, `run`'s start-up check, `dev-kafka`, the demo and the tests.
public struct TopicPlan: Sendable {
    public struct Topic: Sendable, Equatable {
        /// What the partition count must be for wxpush's guarantees to hold.
        public enum Partitions: Sendable, Equatable {
            case any
            case exactly(Int)
            /// As many as the (first) requests topic: the sent log is partitioned like it.
            case likeRequests
        }

        public let setting: String
        public let name: String
        /// The count `create` uses.
        public let partitions: Int
        public let required: Partitions
        /// What `create` sets; `cleanup.policy` is also checked.
        public let configs: [String: String]
        public let why: String
    }

    /// What the brokers have for one topic: nil shape when it does not exist, nil configs when
    /// the brokers did not describe them.
    public struct Found: Sendable {
        public let shape: TopicShape?
        public let configs: [String: String]?

        public init(shape: TopicShape?, configs: [String: String]?) {
            self.shape = shape
            self.configs = configs
        }
    }

    /// `problems` break a guarantee (`run` refuses them); `warnings` only cost.
    public struct Verdict: Sendable, Equatable {
        public var problems: [String]
        public var warnings: [String]

        public init(problems: [String] = [], warnings: [String] = []) {
            self.problems = problems
            self.warnings = warnings
        }
    }

    public let topics: [Topic]
    public let replicationFactor: Int

    public static let defaultRequestPartitions = 6
    static let weekMilliseconds = "604800000"
    static let threeDaysMilliseconds = "259200000"

    public init(
        settings: DispatcherSettings, sharesLimits: Bool = true, requestPartitions: Int = defaultRequestPartitions,
        resultsPartitions: Int? = nil,
        replicationFactor: Int = 3
    ) {
        let delete = ["cleanup.policy": "delete"]
        var topics = settings.allRequestTopics.map { name in
            Topic(
                setting: "kafka.topics.requests", name: name, partitions: requestPartitions, required: .any, configs: delete,
                why: "events from your producers, keyed by openid; partitions bound how many instances share the work")
        }
        topics.append(
            Topic(
                setting: "kafka.topics.results", name: settings.resultsTopic, partitions: resultsPartitions ?? 2 * requestPartitions,
                required: .any, configs: delete,
                why: "one outcome per request and one per receipt, keyed by request id; compaction would keep only the last"))
        topics.append(
            Topic(
                setting: "kafka.topics.dlq", name: settings.deadLetterTopic, partitions: 1, required: .any, configs: delete,
                why: "a copy of each rejected or failed request, to replay once fixed"))
        if settings.exactlyOnce {
            topics.append(
                Topic(
                    setting: "kafka.topics.progress", name: settings.progressTopic, partitions: 1, required: .exactly(1),
                    configs: ["cleanup.policy": "compact"],
                    why:
                        "each request partition's commit point, written in the outcome transactions and read whole as one sequence at start"
                ))
        }
        if !settings.sentTopic.isEmpty {
            topics.append(
                Topic(
                    setting: "kafka.topics.sent", name: settings.sentTopic, partitions: requestPartitions, required: .likeRequests,
                    configs: ["cleanup.policy": "compact,delete", "retention.ms": Self.weekMilliseconds],
                    why: "each send's msgid before its outcome, keyed by request id, so a redone record is answered instead of sent again"))
        }
        if !settings.msgidsTopic.isEmpty {
            topics.append(
                Topic(
                    setting: "kafka.topics.msgids", name: settings.msgidsTopic, partitions: 3, required: .any,
                    configs: ["cleanup.policy": "compact,delete", "retention.ms": Self.threeDaysMilliseconds],
                    why: "msgid → request id for every instance's sends, so any instance can turn a receipt into an outcome"))
        }
        if !settings.recipientsTopic.isEmpty {
            topics.append(
                Topic(
                    setting: "kafka.topics.recipients", name: settings.recipientsTopic, partitions: 3, required: .any,
                    configs: ["cleanup.policy": "compact"],
                    why:
                        "each recipient's latest status per scope (left, refused, back), read whole by every instance; a status feed for backends too"
                ))
        }
        for name in settings.delays.topics {
            topics.append(
                Topic(
                    setting: "kafka.topics.delays", name: name, partitions: requestPartitions, required: .any,
                    configs: ["cleanup.policy": "delete", "retention.ms": Self.weekMilliseconds],
                    why: "requests deferred by not_before or quiet hours, waiting one fixed time each, then moved on by the relay"))
        }
        if sharesLimits, !settings.demandTopic.isEmpty {
            topics.append(
                Topic(
                    setting: "kafka.topics.demand", name: settings.demandTopic, partitions: 1, required: .any,
                    configs: ["cleanup.policy": "compact"],
                    why: "each instance's demand on the shared account limits, keyed by instance"))
        }
        self.topics = topics
        self.replicationFactor = replicationFactor
    }

    /// The plan for these brokers: the requests topic's own partition count when it exists (else
    /// `requestPartitions`), replication at most the brokers' count.
    public static func reading(
        _ admin: KafkaAdmin, settings: DispatcherSettings, sharesLimits: Bool, requestPartitions: Int = defaultRequestPartitions,
        replicationFactor: Int = 3
    ) async throws(KafkaError) -> TopicPlan {
        let brokers = try await admin.brokerCount()
        var partitions = requestPartitions
        do throws(KafkaError) {
            partitions = try await admin.shape(of: settings.requestsTopic).partitions
        } catch  where [.unknownTopic, .unknownTopicOrPartition].contains(error.code) {}
        return TopicPlan(
            settings: settings, sharesLimits: sharesLimits, requestPartitions: partitions,
            replicationFactor: min(replicationFactor, max(1, brokers)))
    }

    /// Reads what the brokers have for each planned topic. Configurations come from the admin API,
    /// which some brokers lack (librdkafka 2.0.2's mock cluster): then `configs` are nil and
    /// `unreadConfigs` says why.
    public func survey(
        _ admin: KafkaAdmin, configsTimeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> (found: [String: Found], unreadConfigs: KafkaError?) {
        var shapes: [String: TopicShape] = [:]
        for topic in topics {
            do throws(KafkaError) {
                shapes[topic.name] = try await admin.shape(of: topic.name)
            } catch  where [.unknownTopic, .unknownTopicOrPartition].contains(error.code) {}
        }
        var configs: [String: [String: String]] = [:]
        var unread: KafkaError?
        if !shapes.isEmpty {
            do throws(KafkaError) {
                configs = try await admin.configs(of: shapes.keys.sorted(), timeout: configsTimeout)
            } catch {
                unread = error
            }
        }
        let found = Dictionary(
            topics.map { topic in (topic.name, Found(shape: shapes[topic.name], configs: unread == nil ? configs[topic.name] : nil)) },
            uniquingKeysWith: { first, _ in first })
        return (found, unread)
    }

    /// What `create` asks the brokers for.
    public var newTopics: [NewTopic] {
        topics.map { NewTopic(name: $0.name, partitions: $0.partitions, replicationFactor: replicationFactor, configs: $0.configs) }
    }

    /// Compares what the brokers have with the plan; each entry names the setting, the topic and the fix.
    public func check(_ found: [String: Found]) -> Verdict {
        var verdict = Verdict()
        let requests = topics.first.flatMap { found[$0.name]?.shape?.partitions }
        for topic in topics {
            let label = "\(topic.setting): \(topic.name)"
            guard let here = found[topic.name], let shape = here.shape else {
                verdict.problems.append("\(label) does not exist; create it with \(recipe(topic)) (`wxpush topics create`)")
                continue
            }
            switch topic.required {
            case .any: break
            case .exactly(let count) where shape.partitions != count:
                verdict.problems.append(
                    "\(label) has \(shape.partitions) partitions, needs \(count) (\(topic.why)); recreate it with \(recipe(topic))")
            case .likeRequests where requests != nil && shape.partitions != requests:
                verdict.problems.append(
                    "\(label) has \(shape.partitions) partitions, the requests topic \(topics[0].name) \(requests!): the sent log is partitioned like the requests; recreate it with \(recipe(topic, partitions: requests!)) (or set kafka.topics.sent: \"\")"
                )
            default: break
            }
            if let policy = here.configs?["cleanup.policy"] {
                checkPolicy(policy, of: topic, label: label, into: &verdict)
            }
            if shape.replicationFactor < min(replicationFactor, shape.brokers) {
                verdict.warnings.append(
                    "\(label) has replication \(shape.replicationFactor) on \(shape.brokers) brokers: losing one broker stops wxpush's writes to it (acks=all); use \(min(replicationFactor, shape.brokers)) with min.insync.replicas=\(max(1, min(replicationFactor, shape.brokers) - 1))"
                )
            }
        }
        return verdict
    }

    private func checkPolicy(_ policy: String, of topic: Topic, label: String, into verdict: inout Verdict) {
        let has = Set(policy.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let wanted = Set((topic.configs["cleanup.policy"] ?? "delete").split(separator: ",").map(String.init))
        guard has != wanted else { return }
        if !wanted.contains("compact"), has.contains("compact") {
            verdict.problems.append(
                "\(label) is compacted (cleanup.policy=\(policy)): \(topic.why); set cleanup.policy=delete")
        } else if topic.required == .exactly(1), !has.contains("compact") {
            verdict.problems.append(
                "\(label) has cleanup.policy=\(policy): the commit point of a partition idle for retention.ms would be deleted and its records redone; set cleanup.policy=compact"
            )
        } else {
            verdict.warnings.append(
                "\(label) has cleanup.policy=\(policy), the plan \(wanted.sorted().joined(separator: ",")): it grows or forgets unlike planned"
            )
        }
    }

    private func recipe(_ topic: Topic, partitions: Int? = nil) -> String {
        ([("partitions", "\(partitions ?? topic.partitions)")] + topic.configs.sorted { $0.key < $1.key })
            .map { "\($0)=\($1)" }.joined(separator: ", ")
    }
}

/// `wxpush run` refused the brokers' topic layout.
public struct TopicLayoutProblems: Error, CustomStringConvertible {
    public let problems: [String]

    public init(_ problems: [String]) { self.problems = problems }

    public var description: String {
        (["the topics do not fit wxpush's guarantees:"] + problems.map { "  - \($0)" }).joined(separator: "\n")
    }
}
