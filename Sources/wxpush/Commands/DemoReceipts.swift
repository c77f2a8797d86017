import ArgumentParser
import Dispatcher
import Foundation
import Harness
import Hummingbird
import Kafka
import Logging
import Simulator
import WeChat

/// The demo's receipt path, as `wxpush run` has it: the simulator posts encrypted receipts to a
/// callback endpoint in this process, which publishes them (with their request ids, from the
/// msgids topic) to the results topic.
enum DemoReceipts {
    static let token = "demoCallbackToken"
    static let aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

    /// Starts the endpoint and points the simulator at it; the returned closure waits (at most
    /// 5 s) until every template delivery's receipt was answered, then stops the endpoint.
    static func attach(_ pipeline: EmbeddedPipeline, logger: Logger) async throws -> @Sendable () async -> Void {
        let index = MsgidIndex()
        let settings = pipeline.settings
        let feed = try MsgidIndexFeed(
            kafka: pipeline.kafka, topic: settings.msgidsTopic, group: settings.groupID, instanceID: "demo", index: index, logger: logger)
        let publisher = ReceiptPublisher(
            producer: try KafkaProducer(configuration: pipeline.kafka, logger: logger), resultsTopic: settings.resultsTopic, index: index,
            logger: logger)
        let authenticator = CallbackAuthenticator(
            token: token, cipher: try CallbackCipher(encodingAESKey: aesKey, appID: pipeline.account.appID))
        let endpoint = CallbackEndpoint(authenticators: [pipeline.account.name: authenticator], receipts: publisher, logger: logger)
        let router = Router()
        router.post("/wechat/callback/{account}") { request, context in
            await endpoint.receive(request, account: context.parameters.get("account") ?? "")
        }
        var quiet = logger
        quiet.logLevel = .critical
        let (listening, reportPort) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { reportPort.yield($0.localAddress?.port ?? 0) }, logger: quiet)
        let running = Task {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await feed.run() }
                group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            }
        }
        guard let port = await listening.first(where: { _ in true }), port > 0 else {
            running.cancel()
            throw ValidationError("the demo's receipt callback did not start")
        }
        pipeline.simulator.updateConfiguration {
            $0.receipts = ReceiptCallbacks(
                url: "http://127.0.0.1:\(port)/wechat/callback/\(pipeline.account.name)", token: token, encodingAESKey: aesKey,
                delay: .milliseconds(100), blockedFraction: 0.03, systemFailedFraction: 0.01)
        }
        return {
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let templates = pipeline.simulator.stats.messagesByOpenID.values.reduce(0) {
                    $0 + $1.filter { $0.kind == "template" }.count
                }
                let callbacks = pipeline.simulator.receiptCallbacks
                if callbacks.answered + callbacks.unanswered >= templates { break }
                try? await Task.sleep(for: .milliseconds(50))
            }
            // The results reader is a moment behind the last publish.
            try? await Task.sleep(for: .milliseconds(500))
            running.cancel()
            _ = await running.result
        }
    }
}
