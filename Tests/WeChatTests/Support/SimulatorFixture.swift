import AsyncHTTPClient
import Logging
import Simulator
import Testing
import WeChat

/// A running simulator, a real HTTPClient and a WeChatClient for its default account, torn down after `body`.
struct SimulatorFixture: Sendable {
    static let appID = "wxdemo"
    static let secret = "demo-secret"

    let simulator: WeChatSimulator
    let baseURL: String
    let httpClient: HTTPClient

    static func with<T: Sendable>(
        _ configuration: SimulatorConfiguration = SimulatorConfiguration(),
        _ body: (SimulatorFixture) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "wechat-tests")
        logger.logLevel = .warning
        let (simulator, baseURL, task) = try await WeChatSimulator.start(configuration: configuration, logger: logger)
        let fixture = SimulatorFixture(simulator: simulator, baseURL: baseURL, httpClient: HTTPClient())
        let result: Result<T, any Error>
        do {
            result = .success(try await body(fixture))
        } catch {
            result = .failure(error)
        }
        try await fixture.httpClient.shutdown()
        task.cancel()
        await awaitBounded(task)
        return try result.get()
    }

    func account(
        name: String = "demo",
        secret: String = SimulatorFixture.secret,
        tokenMode: WeChatAccount.TokenMode = .stable
    ) -> WeChatAccount {
        WeChatAccount(name: name, appID: Self.appID, secret: secret, apiBase: baseURL, tokenMode: tokenMode)
    }

    /// `expectingFailures`: the test provokes token or transport failures; their warnings stay out of the log.
    func client(_ accounts: [WeChatAccount]? = nil, requestTimeout: Duration = .seconds(5), expectingFailures: Bool = false) -> WeChatClient
    {
        var logger = Logger(label: "wechat-client-tests")
        logger.logLevel = expectingFailures ? .critical : .warning
        return WeChatClient(
            httpClient: httpClient, accounts: accounts ?? [account()], requestTimeout: requestTimeout, logger: logger)
    }
}

/// Waits for the simulator task to end, but no longer than `limit`.
private func awaitBounded(_ task: Task<Void, any Error>, limit: Duration = .seconds(5)) async {
    await withTaskGroup(of: Void.self) { group in
        group.addTask { _ = await task.result }
        group.addTask { try? await Task.sleep(for: limit) }
        await group.next()
        group.cancelAll()
    }
}

func templateMessage(
    to openid: String = "o-alice", templateID: String = "TID-ship", clientMsgID: String = "c-1"
)
    -> OutgoingMessage
{
    OutgoingMessage(
        kind: .template, toUser: openid, templateID: templateID, url: "https://shop.example/o/1",
        clientMsgID: clientMsgID, data: ["keyword1": FieldValue(value: "已发货", color: "#173177")])
}
