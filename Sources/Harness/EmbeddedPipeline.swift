import Dispatcher
import Foundation
import Kafka
import Logging
import Simulator
import WeChat

/// The whole pipeline in one process: an embedded Kafka, the WeChat simulator over HTTP, and
/// dispatchers built from the real parts. Used by `wxpush demo`, `wxpush bench dispatch` and tests.
public final class EmbeddedPipeline: Sendable {
    public let cluster: EmbeddedKafka
    public let simulator: WeChatSimulator
    public let simulatorURL: String
    public let settings: DispatcherSettings
    public let kafka: KafkaConfiguration
    public let account: WeChatAccount
    private let simulatorTask: Task<Void, any Error>

    /// Outcomes are bigger than requests: more partitions keep them under the mock's 5 MB each.
    static func resultsPartitions(for partitions: Int) -> Int { max(partitions, 12) }
    public var resultsPartitions: Int { Self.resultsPartitions(for: requestPartitions) }
    public let requestPartitions: Int

    /// Starts the cluster (topics named uniquely per pipeline) and the simulator.
    public static func start(
        partitions: Int = 6, simulator configuration: SimulatorConfiguration = SimulatorConfiguration(),
        settings: DispatcherSettings = DispatcherSettings(), logger: Logger
    ) async throws -> EmbeddedPipeline {
        let cluster = try EmbeddedKafka(brokers: 1, logger: logger)
        let suffix = UUID().uuidString.prefix(8).lowercased()
        var settings = settings
        settings.requestsTopic = "wxpush.requests.\(suffix)"
        settings.resultsTopic = "wxpush.results.\(suffix)"
        settings.deadLetterTopic = "wxpush.dlq.\(suffix)"
        settings.progressTopic = "wxpush.progress.\(suffix)"
        settings.groupID = "wxpush-\(suffix)"
        settings.instanceID = "embedded-\(suffix)"
        try cluster.createTopic(settings.requestsTopic, partitions: partitions)
        try cluster.createTopic(settings.resultsTopic, partitions: resultsPartitions(for: partitions))
        try cluster.createTopic(settings.deadLetterTopic, partitions: 1)
        try cluster.createTopic(settings.progressTopic, partitions: 1)
        let started = try await WeChatSimulator.start(configuration: configuration, logger: logger)
        let appID = configuration.accounts.keys.sorted().first ?? "wxdemo"
        return EmbeddedPipeline(
            cluster: cluster, simulator: started.simulator, simulatorURL: started.baseURL, simulatorTask: started.task,
            settings: settings, requestPartitions: partitions,
            account: WeChatAccount(
                name: "default", appID: appID, secret: configuration.accounts[appID] ?? "", apiBase: started.baseURL, tokenMode: .stable
            )
        )
    }

    private init(
        cluster: EmbeddedKafka, simulator: WeChatSimulator, simulatorURL: String, simulatorTask: Task<Void, any Error>,
        settings: DispatcherSettings, requestPartitions: Int, account: WeChatAccount
    ) {
        self.requestPartitions = requestPartitions
        self.cluster = cluster
        self.simulator = simulator
        self.simulatorURL = simulatorURL
        self.simulatorTask = simulatorTask
        self.settings = settings
        self.account = account
        kafka = KafkaConfiguration(
            bootstrapServers: cluster.bootstrapServers,
            properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "log_level": "3"]
        )
    }

    /// A dispatcher wired to this pipeline; run its `service` (in a ServiceGroup) and `shutdown` it after.
    public func dispatcher(
        rules: RuleBook, inFlight: Int? = nil, exactlyOnce: Bool = true, stats: DispatchStats = DispatchStats(), logger: Logger
    ) throws -> DispatcherAssembly {
        var settings = settings
        if let inFlight { settings.inFlightPerPartition = inFlight }
        settings.exactlyOnce = exactlyOnce
        return try DispatcherAssembly(kafka: kafka, settings: settings, accounts: [account], rules: rules, stats: stats, logger: logger)
    }

    /// Records of the requests topic past the dispatcher group's committed offsets (0 when all committed).
    public func uncommittedRequests() async throws -> Int64 {
        let observer = try KafkaConsumer(configuration: kafka, groupID: settings.groupID, topics: [])
        var behind: Int64 = 0
        for partition in 0..<requestPartitions {
            behind += try await observer.lag(for: TopicPartition(topic: settings.requestsTopic, partition: Int32(partition)))
        }
        return behind
    }

    public func stop() async {
        simulatorTask.cancel()
        _ = try? await simulatorTask.value
    }
}
