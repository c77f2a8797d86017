import Foundation
import Hummingbird
import Logging
import Synchronization

/// A local stand-in for the WeChat API (api.weixin.qq.com) that behaves as wechat-api.md says:
/// tokens, sends, errcodes, client_msg_id de-duplication, quotas, plus injectable latency and faults.
///
/// Extra endpoints for tests and operators: GET /sim/stats (the stats as JSON), GET /health, and
/// GET /sim/central_token?appid=A, a central token service that hands out A's current stable token.
public final class WeChatSimulator: Sendable {
    let state: Mutex<SimulatorState>
    let logger: Logger
    /// Set when `run` is cancelled: Hummingbird then waits for in-flight requests, so hanging ones
    /// must give up instead of holding the shutdown for `hangDuration`.
    let stopping = Atomic<Bool>(false)
    let receiptSender: ReceiptSender
    /// What the simulator takes for now; tests move it forward instead of sleeping.
    public let time = SimulatorTime()

    public init(
        configuration: SimulatorConfiguration = .init(),
        logger: Logger = Logger(label: "wxpush.simulator")
    ) {
        self.state = Mutex(SimulatorState(configuration: configuration))
        self.logger = logger
        self.receiptSender = ReceiptSender(logger: logger)
    }

    /// Serves HTTP until the surrounding task is cancelled; reports the bound port once listening.
    public func run(
        host: String = "127.0.0.1",
        port: Int = 0,
        onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) async throws {
        // Stopping by cancellation makes Hummingbird log "Waiting on child channel: CancellationError"
        // and "Server shutdown error" at error level on every stop; a bind failure is thrown anyway.
        var serverLogger = logger
        serverLogger.logLevel = .critical
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "wechat-simulator"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? port) },
            logger: serverLogger
        )
        stopping.store(false, ordering: .relaxed)
        // No signal handling here: the process that embeds the simulator owns its signals.
        try await withTaskCancellationHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await self.receiptSender.run() }
                try await app.runService(gracefulShutdownSignals: [])
                group.cancelAll()
            }
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
        }
    }

    public var stats: SimulatorStats {
        state.withLock { $0.stats }
    }

    /// Every access token handed out so far (tests search logs and outputs for them).
    public var issuedTokens: [String] { state.withLock { Array($0.tokens.keys) } }

    /// Receipt callbacks answered `success`, and those given up after WeChat's four tries.
    public var receiptCallbacks: (answered: Int, unanswered: Int) {
        (receiptSender.counts.answered.load(ordering: .relaxed), receiptSender.counts.unanswered.load(ordering: .relaxed))
    }

    /// Changes faults, latency, quotas or accounts for the requests that follow.
    public func updateConfiguration(_ change: @Sendable (inout SimulatorConfiguration) -> Void) {
        state.withLock { change(&$0.configuration) }
    }

    /// Every token issued so far answers 40001 from now on.
    public func invalidateAllTokens() {
        state.withLock { $0.revokeAllTokens(now: time.now) }
    }

    /// Every token issued so far answers 42001 from now on.
    public func expireAllTokens() {
        state.withLock { $0.expireAllTokens(now: time.now) }
    }

    /// Clears the stats; tokens, quotas and the de-duplication window are kept.
    public func resetStats() {
        state.withLock { $0.stats = SimulatorStats() }
    }
}

extension WeChatSimulator {
    /// Starts a simulator on 127.0.0.1 and a free port in a background task and waits (at most
    /// 10 s) until it listens. Cancel `task` to stop it.
    public static func start(
        configuration: SimulatorConfiguration = .init(),
        logger: Logger = Logger(label: "wxpush.simulator")
    ) async throws -> (simulator: WeChatSimulator, baseURL: String, task: Task<Void, Error>) {
        let simulator = WeChatSimulator(configuration: configuration, logger: logger)
        let (ports, portReporter) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { portReporter.finish() }
            try await simulator.run(onListening: { portReporter.yield($0) })
        }
        let port = await withTaskGroup(of: Int?.self) { group in
            group.addTask { await ports.first { _ in true } }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let port else {
            task.cancel()
            // Surfaces a bind error, if that is why it never listened.
            try await task.value
            throw SimulatorError("the WeChat simulator did not start listening within 10 s")
        }
        return (simulator, "http://127.0.0.1:\(port)", task)
    }
}
