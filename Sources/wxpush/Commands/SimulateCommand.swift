import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Simulator

/// `wxpush simulate --port P`: the WeChat API simulator on its own.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Runs the WeChat API simulator (tokens, template/subscribe sends, errcodes, faults, /sim/stats)."
    )

    @Option(help: "Port to listen on (0 picks a free one).")
    var port: Int = 8089

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("account"), help: "An account as APPID:SECRET (repeatable).")
    var accounts: [String] = ["wxdemo:demo-secret"]

    @Option(help: "Latency of every send, e.g. 50ms.")
    var latency: String = "0ms"

    @Option(help: "Fraction of sends answered errcode -1 (system busy).")
    var busy: Double = 0

    @Option(help: "Fraction of sends answered HTTP 500.")
    var http500: Double = 0

    @Option(help: "Fraction of sends that hang (client timeouts).")
    var timeouts: Double = 0

    @Option(help: "Fraction of sends answered 40001 although the token is valid.")
    var tokenInvalidation: Double = 0

    @Option(help: "Sends per account per day before 45009.")
    var dailyQuota: Int = 100_000

    @Option(help: "Delivery receipts (TEMPLATESENDJOBFINISH) go to this callback URL, e.g. http://wxpush:8080/wechat/callback/default.")
    var receiptsURL: String?

    @Option(help: "The callback Token the receipts are signed with (or WXPUSH_SIM_RECEIPTS_TOKEN).")
    var receiptsToken: String?

    @Option(help: "The EncodingAESKey: receipts in safe mode (or WXPUSH_SIM_RECEIPTS_AES_KEY).")
    var receiptsAESKey: String?

    @Option(help: "How long after a send its receipt goes out, e.g. 500ms.")
    var receiptDelay: String = "500ms"

    @Option(help: "Fraction of receipts saying user_blocked.")
    var blocked: Double = 0

    @Option(help: "Fraction of receipts saying system_failed.")
    var systemFailed: Double = 0

    func run() async throws {
        LogSetup.bootstrap()
        let logger = Logger(label: "wxpush.simulator")
        var configuration = SimulatorConfiguration()
        configuration.accounts = try Dictionary(
            accounts.map { pair in
                let parts = pair.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw ValidationError("--account \(pair): expected APPID:SECRET") }
                return (parts[0], parts[1])
            },
            uniquingKeysWith: { $1 }
        )
        guard let latency = DurationText.parse(latency) else { throw ValidationError("--latency \(latency): write it like 50ms") }
        configuration.latency = latency
        configuration.busyFraction = busy
        configuration.http500Fraction = http500
        configuration.timeoutFraction = timeouts
        configuration.tokenInvalidationFraction = tokenInvalidation
        configuration.dailyQuota = dailyQuota
        if let receiptsURL {
            let environment = ProcessInfo.processInfo.environment
            guard let token = receiptsToken ?? environment["WXPUSH_SIM_RECEIPTS_TOKEN"] else {
                throw ValidationError("--receipts-url needs --receipts-token (the account's callback Token)")
            }
            guard let delay = DurationText.parse(receiptDelay) else {
                throw ValidationError("--receipt-delay \(receiptDelay): write it like 500ms")
            }
            configuration.receipts = ReceiptCallbacks(
                url: receiptsURL, token: token, encodingAESKey: receiptsAESKey ?? environment["WXPUSH_SIM_RECEIPTS_AES_KEY"], delay: delay,
                blockedFraction: blocked, systemFailedFraction: systemFailed)
        }
        let simulator = WeChatSimulator(configuration: configuration, logger: logger)
        let (host, port) = (host, port)
        let service = ServiceGroup(
            services: [
                SimulatorService(simulator: simulator, host: host, port: port) { bound in
                    print("WeChat simulator listening on http://\(host):\(bound)")
                    fflush(nil)
                }
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        try await service.run()
    }
}

/// The simulator as a service: it serves until graceful shutdown.
struct SimulatorService: Service {
    let simulator: WeChatSimulator
    let host: String
    let port: Int
    let onListening: @Sendable (Int) -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await simulator.run(host: host, port: port, onListening: onListening)
        }
    }
}
