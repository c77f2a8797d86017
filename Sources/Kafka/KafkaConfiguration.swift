/// librdkafka properties, passed through as given (security settings included), over safe defaults.
///
/// See librdkafka's CONFIGURATION.md for every property. Our defaults only make the guarantees hold:
/// the producer is idempotent with `acks=all`; the consumer stores offsets only when told to.
public struct KafkaConfiguration: Sendable, Equatable {
    public var properties: [String: String]
    /// Per named producer, properties over `properties` for that producer only.
    public var producerProfiles: [String: [String: String]] = [:]

    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.properties = properties
        self.properties["bootstrap.servers"] = bootstrapServers
    }

    public var bootstrapServers: String { properties["bootstrap.servers"] ?? "" }

    /// The configuration of producer `name`: its `defaults` (what its use needs), then
    /// `properties` (the user's, for every client), then the user's profile for it, each over the last.
    public func producer(_ name: String, defaults: [String: String]) -> KafkaConfiguration {
        var copy = self
        copy.properties = defaults.merging(properties) { _, user in user }.merging(producerProfiles[name] ?? [:]) { _, profile in profile }
        copy.producerProfiles = [:]
        return copy
    }

    static let producerDefaults: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "queue.buffering.max.messages": "1000000",
        "message.timeout.ms": "300000",
    ]

    static let consumerDefaults: [String: String] = [
        // Offsets are stored by the application after its work is durable; only stored offsets are
        // ever committed, by the periodic auto-commit or by an explicit commit.
        "enable.auto.commit": "true",
        "enable.auto.offset.store": "false",
        "auto.commit.interval.ms": "1000",
        "auto.offset.reset": "earliest",
        "enable.partition.eof": "false",
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": "10000",
        "heartbeat.interval.ms": "1000",
        // Bounded prefetch: a slow partition task stops the fetcher instead of growing memory.
        "queued.max.messages.kbytes": "8192",
        "queued.min.messages": "20000",
    ]

    /// Properties the consumer cannot run without, whatever the user set.
    static let consumerRequired: [String: String] = [
        "enable.auto.offset.store": "false"
    ]

    func producerProperties() -> [String: String] {
        Self.producerDefaults.merging(properties.filter { !Self.isConsumerOnly($0.key) }) { _, user in user }
    }

    /// What the consumer will run with for `key`: the user's value, our default, or nil (librdkafka's).
    public func consumerProperty(_ key: String) -> String? { consumerProperties(groupID: "")[key] }

    func consumerProperties(groupID: String) -> [String: String] {
        var merged = Self.consumerDefaults.merging(properties.filter { !Self.isProducerOnly($0.key) }) { _, user in user }
        merged["group.id"] = groupID
        return merged.merging(Self.consumerRequired) { _, required in required }
    }

    /// One property set serves both clients; each gets only what applies to it (librdkafka warns otherwise).
    static func isConsumerOnly(_ key: String) -> Bool {
        [
            "group.", "session.timeout", "heartbeat.", "auto.", "enable.auto", "partition.assignment", "queued.", "fetch.",
            "max.poll", "isolation.level", "enable.partition.eof", "check.crcs",
        ].contains { key.hasPrefix($0) }
    }

    static func isProducerOnly(_ key: String) -> Bool {
        [
            "acks", "request.required.acks", "linger.ms", "queue.buffering.", "enable.idempotence", "batch.", "message.timeout",
            "compression.", "delivery.timeout", "transactional.", "enable.gapless",
        ].contains { key.hasPrefix($0) }
    }
}

extension KafkaConfiguration {
    /// Every property librdkafka refuses, for either client; empty when the configuration is usable.
    public func validate() -> [String] {
        var problems: [String] = []
        for properties in [producerProperties(), consumerProperties(groupID: "validation")] {
            do throws(KafkaError) {
                try RDKafkaClient.destroyConf(RDKafkaClient.makeConf(properties))
            } catch {
                problems.append(error.message)
            }
        }
        return Array(Set(problems)).sorted()
    }
}
