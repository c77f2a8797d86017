import AsyncHTTPClient
import Kafka
import Logging
import ServiceLifecycle
import WeChat

/// The dispatcher's parts, built once from configuration: one HTTP client for the process, one
/// WeChat client (a token cache per account), one outcome producer, one group consumer.
public struct DispatcherAssembly: Sendable {
    public let httpClient: HTTPClient
    public let wechat: WeChatClient
    public let producer: KafkaProducer
    public let consumer: KafkaConsumer
    public let service: DispatcherService
    /// The accounts' limits and circuit breakers (operators clear quota waits through it).
    public let limits: SendLimits
    /// Recipients who left or refused; a `RecipientFeed` fills it (nil without a recipients topic).
    public let suppressions: Suppressions?
    /// The accounts' template libraries as read (nil with `templateCheck` off); `TemplateRefresh` fills it.
    public let templates: TemplateCatalog?

    public init(
        kafka: KafkaConfiguration, settings: DispatcherSettings, accounts: [WeChatAccount], rules: RuleBook,
        http: WeChatHTTPSettings = WeChatHTTPSettings(), limits: [String: AccountLimits] = [:],
        stats: DispatchStats = DispatchStats(), logger: Logger
    ) throws(KafkaError) {
        stats.bound(accounts: accounts.map(\.name), types: rules.types)
        let httpClient = http.makeClient()
        let wechat = WeChatClient(
            httpClient: httpClient, accounts: accounts, requestTimeout: http.exchangeTimeout, maxConnections: http.maxConnections,
            logger: logger)
        let producer: KafkaProducer
        let consumer: KafkaConsumer
        let reader: KafkaPartitionReader
        let sentLogProducer: KafkaProducer?
        var relay: DelayRelay?
        do {
            var producerConfiguration = ProducerRole.outcomes.configuration(kafka)
            if settings.exactlyOnce {
                producerConfiguration.properties["transactional.id"] = settings.transactionalID
                // A record must time out within its transaction (librdkafka insists); a minute bounds
                // how long a crashed run's open transaction can hold read_committed readers back.
                let transactionTimeout = producerConfiguration.properties["transaction.timeout.ms"] ?? "60000"
                producerConfiguration.properties["transaction.timeout.ms"] = transactionTimeout
                if producerConfiguration.properties["message.timeout.ms"] == nil {
                    producerConfiguration.properties["message.timeout.ms"] = transactionTimeout
                }
            }
            producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
            reader = try KafkaPartitionReader(configuration: kafka, logger: logger)
            // The sent log must outlive an aborted transaction: a plain producer of its own.
            sentLogProducer =
                settings.sentTopic.isEmpty
                ? nil : try KafkaProducer(configuration: ProducerRole.sentLog.configuration(kafka), logger: logger)
            // Each partition commits its own progress with metadata (`CommitMetadata`); an auto-commit
            // would overwrite that metadata.
            var consumerConfiguration = kafka
            consumerConfiguration.properties["enable.auto.commit"] = "false"
            consumer = try KafkaConsumer(
                configuration: consumerConfiguration, groupID: settings.groupID, topics: settings.allRequestTopics, logger: logger)
            if settings.delays.isEnabled {
                relay = DelayRelay(
                    consumer: try DelayRelay.consumer(kafka: kafka, groupID: settings.groupID, tiers: settings.delays, logger: logger),
                    producer: try KafkaProducer(configuration: ProducerRole.delays.configuration(kafka), logger: logger),
                    tiers: settings.delays, requestTopics: Set(settings.allRequestTopics), deadLetterTopic: settings.deadLetterTopic,
                    logger: logger)
            }
        } catch {
            try? httpClient.syncShutdown()
            throw error
        }
        self.httpClient = httpClient
        self.wechat = wechat
        self.producer = producer
        self.consumer = consumer
        let sendLimits = SendLimits(
            limits: limits, breakers: accounts.map(\.name), minimumShare: settings.priorityMinimumShare, logger: logger)
        self.limits = sendLimits
        let suppressions = settings.recipientsTopic.isEmpty ? nil : Suppressions()
        self.suppressions = suppressions
        let templates = settings.templateCheck == .off ? nil : TemplateCatalog(mode: settings.templateCheck)
        self.templates = templates
        service = DispatcherService(
            consumer: consumer,
            publisher: OutcomePublisher(
                producer: producer, resultsTopic: settings.resultsTopic, deadLetterTopic: settings.deadLetterTopic,
                msgidsTopic: settings.msgidsTopic.isEmpty ? nil : settings.msgidsTopic,
                transactions: settings.exactlyOnce
                    ? OutcomeTransactions(
                        producer: producer, consumer: consumer, transactionalID: settings.transactionalID,
                        progress: ProgressLog(topic: settings.progressTopic, group: settings.groupID),
                        reader: reader, interval: settings.commitInterval, logger: logger) : nil,
                sentLog: sentLogProducer.map { SentLog(topic: settings.sentTopic, producer: $0, reader: reader) },
                recipientsTopic: settings.recipientsTopic.isEmpty ? nil : settings.recipientsTopic),
            processor: EventProcessor(
                rules: rules, sender: wechat, retry: settings.retry, clock: ContinuousClock(),
                quotaExhausted: { sendLimits.quotaExhausted(account: $0, date: $1) },
                answered: { sendLimits.answered(account: $0, healthy: $1) }, suppressions: suppressions, templates: templates),
            settings: settings, stats: stats, limits: sendLimits, relay: relay, logger: logger
        )
    }

    /// The services for one `ServiceGroup`, in start order: it shuts them down in reverse, so the
    /// dispatcher drains (still sending) before the HTTP client goes.
    public var services: [any Service] { [HTTPClientService(client: httpClient), service] }

    /// For callers without a `ServiceGroup` (tests, the in-process harness), after the service stopped.
    public func shutdown() async {
        try? await httpClient.shutdown()
    }
}

/// Keeps the process's one HTTP client until graceful shutdown reaches it, then shuts it down.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
