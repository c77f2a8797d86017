import Dispatcher
import Foundation
import Kafka
import Logging
import Simulator
import WeChat

/// The whole pipeline in one process: an embedded Kafka, the WeChat simulator over HTTP, and
/// dispatchers built from the real parts. Used by `wxpush demo`, `wxpush bench dispatch` and tests.
public final class EmbeddedPipeline: Sendable {
    /// The Kafka it runs on: librdkafka's mock cluster in this process, or a Tansu broker.
    public enum Broker: Sendable, Equatable {
        case embedded
        case tansu(executable: String)
    }

    private let embedded: EmbeddedKafka?
    private let tansu: TansuBroker?
    public let bootstrapServers: String
    public let simulator: WeChatSimulator
    /// The WeChat API base the dispatcher talks to: the simulator's, or the threaded stand-in's.
    public let simulatorURL: String
    private let threaded: ThreadedWeChatServer?
    public let settings: DispatcherSettings
    public let kafka: KafkaConfiguration
    public let account: WeChatAccount
    private let simulatorTask: Task<Void, any Error>

    /// Outcomes are bigger than requests: more partitions keep them under the mock's 5 MB each.
    static func resultsPartitions(for partitions: Int) -> Int { max(partitions, 12) }
    public var resultsPartitions: Int { Self.resultsPartitions(for: requestPartitions) }
    public let requestPartitions: Int

    /// Starts the cluster (topics named uniquely per pipeline) and the simulator. With the
    /// `threaded` stand-in, sends go to it instead (answering after `configuration.latency`).
    /// With `delays`, the delay topics of `settings`' tiers are made and the dispatchers relay
    /// deferred requests through them; without, deferred requests wait in memory (a relay's group
    /// is one more consumer per dispatcher, which runs that do not defer need not pay for).
    public static func start(
        partitions: Int = 6, simulator configuration: SimulatorConfiguration = SimulatorConfiguration(),
        standIn: WeChatStandIn = .builtin, settings: DispatcherSettings = DispatcherSettings(), delays: Bool = false,
        broker: Broker = .embedded, logger: Logger
    ) async throws -> EmbeddedPipeline {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        var settings = settings
        settings.requestsTopic = "wxpush.requests.\(suffix)"
        settings.resultsTopic = "wxpush.results.\(suffix)"
        settings.deadLetterTopic = "wxpush.dlq.\(suffix)"
        settings.progressTopic = "wxpush.progress.\(suffix)"
        settings.msgidsTopic = "wxpush.msgids.\(suffix)"
        settings.sentTopic = "wxpush.sent.\(suffix)"
        settings.demandTopic = "wxpush.demand.\(suffix)"
        settings.recipientsTopic = "wxpush.recipients.\(suffix)"  // created; the children use it when asked to
        settings.delays = DelayTiers(prefix: delays ? "wxpush.delay.\(suffix)" : "", tiers: settings.delays.tiers)
        settings.groupID = "wxpush-\(suffix)"
        settings.instanceID = "embedded-\(suffix)"
        let plan = TopicPlan(
            settings: settings, requestPartitions: partitions, resultsPartitions: resultsPartitions(for: partitions), replicationFactor: 1)
        let (embedded, tansu) = try await Self.start(broker, topics: plan, logger: logger)
        let started = try await WeChatSimulator.start(configuration: configuration, logger: logger)
        let appID = configuration.accounts.keys.sorted().first ?? "wxdemo"
        let secret = configuration.accounts[appID] ?? ""
        let threaded: ThreadedWeChatServer?
        do {
            threaded =
                standIn == .threaded
                ? try ThreadedWeChatServer(
                    latency: configuration.latency, appID: appID, secret: secret, backlog: configuration.threadedBacklog)
                : nil
        } catch {
            started.task.cancel()
            throw error
        }
        let apiBase = threaded?.baseURL ?? started.baseURL
        return EmbeddedPipeline(
            embedded: embedded, tansu: tansu, simulator: started.simulator, simulatorURL: apiBase, threaded: threaded,
            simulatorTask: started.task,
            settings: settings, requestPartitions: partitions,
            account: WeChatAccount(name: "default", appID: appID, secret: secret, apiBase: apiBase, tokenMode: .stable)
        )
    }

    private init(
        embedded: EmbeddedKafka?, tansu: TansuBroker?, simulator: WeChatSimulator, simulatorURL: String, threaded: ThreadedWeChatServer?,
        simulatorTask: Task<Void, any Error>, settings: DispatcherSettings, requestPartitions: Int, account: WeChatAccount
    ) {
        self.threaded = threaded
        self.requestPartitions = requestPartitions
        self.embedded = embedded
        self.tansu = tansu
        bootstrapServers = tansu?.bootstrapServers ?? embedded?.bootstrapServers ?? ""
        self.simulator = simulator
        self.simulatorURL = simulatorURL
        self.simulatorTask = simulatorTask
        self.settings = settings
        self.account = account
        kafka = KafkaConfiguration(
            bootstrapServers: bootstrapServers,
            properties: ["session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "log_level": "3"]
        )
    }

    /// The embedded cluster (for broker faults and topics made by a test); an error on Tansu.
    public var cluster: EmbeddedKafka {
        get throws(HarnessError) {
            guard let embedded else { throw HarnessError("this pipeline runs on Tansu, not on the embedded cluster") }
            return embedded
        }
    }

    /// The broker started, with `topics` created on it.
    private static func start(_ broker: Broker, topics plan: TopicPlan, logger: Logger) async throws -> (EmbeddedKafka?, TansuBroker?) {
        switch broker {
        case .embedded:
            let cluster = try EmbeddedKafka(brokers: 1, logger: logger)
            for topic in plan.topics { try cluster.createTopic(topic.name, partitions: topic.partitions) }
            return (cluster, nil)
        case .tansu(let executable):
            let tansu = try await TansuBroker(executable: executable)
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(bootstrapServers: tansu.bootstrapServers))
            for (name, error) in try await admin.create(plan.newTopics) {
                if let error { throw HarnessError("creating \(name) on Tansu: \(error)") }
            }
            return (nil, tansu)
        }
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
        var quiet = Logger(label: "wxpush.observer")
        quiet.logLevel = .warning
        let observer = try KafkaConsumer(configuration: kafka, groupID: settings.groupID, topics: [], logger: quiet)
        var behind: Int64 = 0
        for partition in 0..<requestPartitions {
            behind += try await observer.lag(for: TopicPartition(topic: settings.requestsTopic, partition: Int32(partition)))
        }
        return behind
    }

    /// CPU seconds the threaded stand-in used so far (nil for the built-in simulator, which runs
    /// in this process).
    public var standInCPUSeconds: Double? { threaded?.cpuSeconds }

    /// What the WeChat stand-in in use saw.
    public func wechatStats() async throws -> SimulatorStats {
        try await threaded?.stats() ?? simulator.stats
    }

    public func stop() async {
        tansu?.stop()
        threaded?.stop()
        simulatorTask.cancel()
        _ = try? await simulatorTask.value
    }
}
