import ArgumentParser
import Dispatcher
import Kafka
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `wxpush run --config FILE`: the dispatcher, until SIGTERM/SIGINT (then drain, commit, exit 0; a
/// second signal cancels at once). A fatal producer error drains and exits non-zero.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the dispatcher: Kafka requests in, WeChat messages out, one outcome per request."
    )

    @Option(help: "The configuration file (default: $WXPUSH_CONFIG, else config/wxpush.yaml).")
    var config: String = ConfigurationLoader.defaultPath

    func run() async throws {
        let resolved = try CheckConfigCommand.loadOrExplain(config)
        LogSetup.bootstrap(resolved.logging)
        let logger = Logger(label: "wxpush")
        try await refuseLiveTwin(resolved, logger: logger)
        // Before anything makes a metric handle: handles made earlier would stay no-ops.
        let registry = Self.bootstrapMetrics()
        let assembly = try DispatcherAssembly(
            kafka: resolved.kafka, settings: resolved.settings, accounts: resolved.accounts, rules: resolved.ruleBook,
            http: resolved.wechatHTTP, limits: resolved.limits, logger: logger
        )
        try await checkTopics(resolved, assembly: assembly, logger: logger)
        logger.notice(
            "wxpush starting",
            metadata: [
                "brokers": "\(resolved.kafka.bootstrapServers)", "group": "\(resolved.settings.groupID)",
                "requests": "\(resolved.settings.allRequestTopics.joined(separator: ","))", "accounts": "\(resolved.accounts.map(\.name))",
                "rules": "\(resolved.ruleBook.types.count)", "in_flight": "\(resolved.settings.inFlightPerPartition)",
            ]
        )
        let group = ServiceGroup(
            services: try services(resolved, assembly: assembly, registry: registry, logger: logger), gracefulShutdownSignals: [],
            logger: logger)
        try await SignalEscalation.run(group, logger: logger)
        logger.info("wxpush stopped")
    }

    /// An explicit `instance_id` another live process already runs with is refused before this
    /// one's transactional producer could fence that one (`DemandExchange.liveTwin`: instances
    /// with limits announce themselves on the demand topic). A default id is unique already.
    private func refuseLiveTwin(_ resolved: ResolvedConfiguration, logger: Logger) async throws {
        let settings = resolved.settings
        guard settings.instanceID != DispatcherSettings.defaultInstanceID, !resolved.limits.isEmpty, !settings.demandTopic.isEmpty
        else { return }
        let twin: String?
        do {
            twin = try await DemandExchange.liveTwin(
                kafka: resolved.kafka, topic: settings.demandTopic, group: settings.groupID, instanceID: settings.instanceID,
                logger: logger)
        } catch {
            return logger.warning("could not look for another live process with instance_id \(settings.instanceID) (\(error))")
        }
        if let twin {
            throw DuplicateInstance(instanceID: settings.instanceID, own: DispatcherSettings.incarnation, other: twin)
        }
    }

    /// Refuses a topic layout that breaks a guarantee (`TopicPlan.check`, as `wxpush topics check`);
    /// warns for what only costs. Brokers that do not answer are no reason to refuse: the check is
    /// skipped with a warning, and the run waits for them.
    private func checkTopics(_ resolved: ResolvedConfiguration, assembly: DispatcherAssembly, logger: Logger) async throws {
        let verdict: TopicPlan.Verdict
        do throws(KafkaError) {
            let admin = try KafkaAdmin(configuration: resolved.kafka, logger: logger)
            let plan = try await TopicPlan.reading(admin, settings: resolved.settings, sharesLimits: !resolved.limits.isEmpty)
            let (found, unread) = try await plan.survey(admin, configsTimeout: Self.configsTimeout)
            if let unread { logger.info("topic configurations not checked: the brokers did not describe them (\(unread))") }
            verdict = plan.check(found)
        } catch {
            return logger.warning("the topics could not be checked (\(error)); starting without the check")
        }
        for warning in verdict.warnings { logger.warning("\(warning)") }
        guard verdict.problems.isEmpty else {
            await assembly.shutdown()
            throw TopicLayoutProblems(verdict.problems)
        }
    }

    /// DescribeConfigs answers in milliseconds (at once, refused, from a cluster without a
    /// controller such as the mock): this bounds a slow one, never the start of a healthy one.
    static let configsTimeout: Duration = .seconds(2)

    /// In start order (shut down in reverse): the HTTP client, the msgid feed and the HTTP server
    /// stay up while the dispatcher drains.
    private func services(
        _ resolved: ResolvedConfiguration, assembly: DispatcherAssembly, registry: PrometheusCollectorRegistry, logger: Logger
    ) throws -> [any Service] {
        let settings = resolved.settings
        var services = assembly.services
        let dispatcher = services.removeLast()
        let index = MsgidIndex()
        if !settings.msgidsTopic.isEmpty {
            services.append(
                try MsgidIndexFeed(
                    kafka: resolved.kafka, topic: settings.msgidsTopic, group: settings.groupID, instanceID: settings.instanceID,
                    index: index,
                    logger: logger))
        }
        if let suppressions = assembly.suppressions {
            services.append(
                try RecipientFeed(
                    kafka: resolved.kafka, topic: settings.recipientsTopic, group: settings.groupID, instanceID: settings.instanceID,
                    suppressions: suppressions, logger: logger))
        }
        // Receipts and demand go straight out (the dispatcher's producer may be transactional).
        let producer = try KafkaProducer(configuration: ProducerRole.signals.configuration(resolved.kafka), logger: logger)
        if let templates = assembly.templates {
            services.append(
                TemplateRefresh(
                    wechat: assembly.wechat, accounts: resolved.accounts.map(\.name), rules: resolved.ruleBook, catalog: templates,
                    interval: settings.templateRefresh, logger: logger))
        }
        if assembly.limits.hasLimits {
            services.append(QuotaCalibration(wechat: assembly.wechat, limits: assembly.limits, logger: logger))
        }
        if assembly.limits.hasLimits && !settings.demandTopic.isEmpty {
            services.append(
                try DemandExchange(
                    kafka: resolved.kafka, producer: producer, topic: settings.demandTopic, group: settings.groupID,
                    instanceID: settings.instanceID, limits: assembly.limits, logger: logger))
        }
        if resolved.http.port != 0 {
            let receipts = ReceiptPublisher(
                producer: producer, resultsTopic: settings.resultsTopic, index: index,
                markersTopic: settings.msgidsTopic.isEmpty ? nil : settings.msgidsTopic,
                recipientsTopic: settings.recipientsTopic.isEmpty ? nil : settings.recipientsTopic, logger: logger)
            let endpoints = HTTPEndpoints(
                readiness: Readiness(
                    consumer: assembly.consumer, requestsTopic: settings.requestsTopic, wechat: assembly.wechat,
                    accounts: resolved.accounts.map(\.name)),
                health: assembly.service.health, stallTimeout: settings.stallTimeout, registry: registry, consumer: assembly.consumer,
                callbacks: CallbackEndpoint(authenticators: resolved.callbacks, receipts: receipts, logger: logger),
                intake: try resolved.http.intakeToken.map { _ throws(KafkaError) in
                    try NotificationIntake(
                        kafka: resolved.kafka, topic: settings.requestsTopic,
                        transactionalID: "wxpush-intake-\(settings.groupID)-\(settings.instanceID)",
                        ruleTypes: resolved.ruleBook.types, accounts: resolved.accounts.map(\.name), logger: logger)
                },
                intakeToken: resolved.http.intakeToken, limits: assembly.limits, adminToken: resolved.http.adminToken)
            let http = resolved.http
            if let adminPort = http.adminPort {
                services.append(HTTPServer.make(settings: http, port: http.port, router: endpoints.makeRouter(.publicOnly), logger: logger))
                services.append(HTTPServer.make(settings: http, port: adminPort, router: endpoints.makeRouter(.adminOnly), logger: logger))
            } else {
                services.append(HTTPServer.make(settings: http, port: http.port, router: endpoints.makeRouter(), logger: logger))
            }
        }
        services.append(dispatcher)
        return services
    }

    /// One Prometheus registry for the process; WeChat latency in buckets from 5 ms to 10 s, the
    /// end-to-end latency from 50 ms to 2 h.
    static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["wxpush_wechat_request_duration_seconds"] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        // Consumer lag included: from the request record's timestamp to its outcome.
        factory.durationHistogramBuckets["wxpush_end_to_end_seconds"] = [
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60), .seconds(300), .seconds(1800), .seconds(7200),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }
}
