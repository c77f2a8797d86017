import Kafka

/// The partition counts wxpush's guarantees rest on, read from the brokers' metadata at start:
/// `wxpush run` refuses a layout that breaks one, naming each problem with its fix, instead of
/// running on a topic the broker auto-created with its own default.
public enum TopicLayout {
    /// What is wrong (each with its fix); empty when the layout holds. `count` answers a topic's
    /// partition count (`KafkaError.unknownTopic…` for a topic that does not exist).
    public static func problems(
        _ settings: DispatcherSettings, count: (String) async throws(KafkaError) -> Int
    ) async throws(KafkaError) -> [String] {
        var problems: [String] = []
        func partitions(_ topic: String, _ field: String, _ create: String) async throws(KafkaError) -> Int? {
            do throws(KafkaError) {
                return try await count(topic)
            } catch  where [.unknownTopic, .unknownTopicOrPartition].contains(error.code) {
                problems.append("kafka.topics.\(field): \(topic) does not exist; create it with \(create)")
                return nil
            }
        }
        let requests = try await partitions(settings.requestsTopic, "requests", "the partitions your producers need")
        if !settings.sentTopic.isEmpty, let requests {
            let fix = "\(requests) partitions, cleanup.policy=compact,delete, retention.ms ≥ 7 days"
            if let sent = try await partitions(settings.sentTopic, "sent", fix), sent != requests {
                problems.append(
                    "kafka.topics.sent: \(settings.sentTopic) has \(sent) partitions, the requests topic \(settings.requestsTopic) \(requests): the sent log is partitioned like the requests; recreate it with \(fix) (or set kafka.topics.sent: \"\")"
                )
            }
        }
        if settings.exactlyOnce {
            let fix = "1 partition, cleanup.policy=compact"
            if let progress = try await partitions(settings.progressTopic, "progress", fix), progress != 1 {
                problems.append(
                    "kafka.topics.progress: \(settings.progressTopic) has \(progress) partitions: the progress log is read whole as one sequence; recreate it with \(fix)"
                )
            }
        }
        return problems
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
