import ArgumentParser
import Dispatcher
import Logging
import ServiceLifecycle

/// `wxpush run --config FILE`: the dispatcher, until SIGTERM/SIGINT (then drain, commit, exit 0; a
/// second signal cancels at once). A fatal producer error drains and exits non-zero.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Runs the dispatcher: Kafka requests in, WeChat messages out, one outcome per request."
    )

    @Option(help: "The configuration file.")
    var config: String = "config/wxpush.yaml"

    func run() async throws {
        LogSetup.bootstrap()
        let logger = Logger(label: "wxpush")
        let resolved = try CheckConfigCommand.loadOrExplain(config)
        let assembly = try DispatcherAssembly(
            kafka: resolved.kafka, settings: resolved.settings, accounts: resolved.accounts, rules: resolved.ruleBook,
            requestTimeout: resolved.requestTimeout, maxConnections: resolved.maxConnections, limits: resolved.limits, logger: logger
        )
        logger.notice(
            "wxpush starting",
            metadata: [
                "brokers": "\(resolved.kafka.bootstrapServers)", "group": "\(resolved.settings.groupID)",
                "requests": "\(resolved.settings.requestsTopic)", "accounts": "\(resolved.accounts.map(\.name))",
                "rules": "\(resolved.ruleBook.types.count)", "in_flight": "\(resolved.settings.inFlightPerPartition)",
            ]
        )
        let group = ServiceGroup(services: assembly.services, gracefulShutdownSignals: [], logger: logger)
        try await SignalEscalation.run(group, logger: logger)
        logger.info("wxpush stopped")
    }
}
