import Simulator
import Testing
import WeChat

@Suite("Access tokens against the simulator over HTTP")
struct TokenIntegrationTests {
    @Test(arguments: ["stable", "classic", "central"])
    func everyTokenModeSends(mode: String) async throws {
        try await SimulatorFixture.with { fixture in
            let tokenMode: WeChatAccount.TokenMode =
                switch mode {
                case "stable": .stable
                case "classic": .classic
                default: .central(url: fixture.baseURL + "/sim/central_token?appid=" + SimulatorFixture.appID)
                }
            let client = fixture.client([fixture.account(tokenMode: tokenMode)])
            #expect(await client.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            #expect(await client.send(templateMessage(clientMsgID: "c-2"), account: "demo").errcode == 0)
            #expect(await client.tokenFetchCount(account: "demo") == 1)
            #expect(fixture.simulator.stats.tokenFetches == 1)
        }
    }

    @Test func stableTokensAreSharedBetweenInstances() async throws {
        try await SimulatorFixture.with { fixture in
            let first = fixture.client()
            let second = fixture.client()
            #expect(await first.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            #expect(await second.send(templateMessage(clientMsgID: "c-2"), account: "demo").errcode == 0)
            let again = await first.send(templateMessage(clientMsgID: "c-3"), account: "demo")
            #expect(again.errcode == 0)
            #expect(again.tokenRefreshed == false)
        }
    }

    @Test func aClassicFetchEvictsTheOtherInstanceOnlyAfterTheOverlap() async throws {
        let configuration = SimulatorConfiguration(classicOverlap: .seconds(1))
        try await SimulatorFixture.with(configuration) { fixture in
            let first = fixture.client([fixture.account(tokenMode: .classic)])
            let second = fixture.client([fixture.account(tokenMode: .classic)])
            #expect(await first.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            #expect(await second.send(templateMessage(clientMsgID: "c-2"), account: "demo").errcode == 0)

            let withinOverlap = await first.send(templateMessage(clientMsgID: "c-3"), account: "demo")
            #expect(withinOverlap.errcode == 0)
            #expect(withinOverlap.tokenRefreshed == false)

            fixture.simulator.time.advance(by: .milliseconds(1100))
            let afterOverlap = await first.send(templateMessage(clientMsgID: "c-4"), account: "demo")
            #expect(afterOverlap.errcode == 0)
            #expect(afterOverlap.tokenRefreshed)
            #expect(await first.tokenFetchCount(account: "demo") == 2)
            #expect(fixture.simulator.stats.errorsByCode["40001"] == 1)
        }
    }

    @Test(arguments: ["invalidated", "expired"])
    func aTokenLostMidRunIsRefreshedOnce(how: String) async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            #expect(await client.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            if how == "invalidated" {
                fixture.simulator.invalidateAllTokens()
            } else {
                fixture.simulator.expireAllTokens()
            }
            let result = await client.send(templateMessage(clientMsgID: "c-2"), account: "demo")
            #expect(result.errcode == 0)
            #expect(result.tokenRefreshed)
            #expect(await client.tokenFetchCount(account: "demo") == 2)
            let stats = fixture.simulator.stats
            #expect(stats.errorsByCode[how == "invalidated" ? "40001" : "42001"] == 1)
            #expect(stats.sendRequests == 3)

            let next = await client.send(templateMessage(clientMsgID: "c-3"), account: "demo")
            #expect(next.errcode == 0)
            #expect(next.tokenRefreshed == false)
        }
    }

    @Test func aTokenRejectedAgainAfterRefreshIsReturnedNotLooped() async throws {
        try await SimulatorFixture.with(SimulatorConfiguration(tokenInvalidationFraction: 1)) { fixture in
            let result = await fixture.client().send(templateMessage(), account: "demo")
            #expect(result.errcode == 40001)
            #expect(result.action == .refreshToken)
            #expect(result.tokenRefreshed)
            #expect(fixture.simulator.stats.sendRequests == 2)
        }
    }
}
