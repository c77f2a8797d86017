import Simulator
import Testing
import WeChat

@Suite("WeChatClient against the simulator over HTTP")
struct SendIntegrationTests {
    @Test func aSendSucceedsWithAMsgid() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            let result = await client.send(templateMessage(), account: "demo")
            #expect(result.errcode == 0)
            #expect(result.action == .success)
            #expect(result.msgid != nil)
            #expect(result.tokenRefreshed == false)
            let delivered = fixture.simulator.stats.messagesByOpenID["o-alice"]
            #expect(delivered?.count == 1)
            #expect(delivered?.first?.msgid == result.msgid)
            #expect(delivered?.first?.data == ["keyword1": "已发货"])
            #expect(await client.tokenFetchCount(account: "demo") == 1)
        }
    }

    @Test func aClientMsgIDIsDeliveredOnceAndAnsweredWithTheSameMsgid() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            let first = await client.send(templateMessage(clientMsgID: "evt-1"), account: "demo")
            let again = await client.send(templateMessage(clientMsgID: "evt-1"), account: "demo")
            let other = await client.send(templateMessage(clientMsgID: "evt-2"), account: "demo")
            #expect(first.msgid != nil)
            #expect(again.errcode == 0)
            #expect(again.msgid == first.msgid)
            #expect(other.msgid != first.msgid)
            let stats = fixture.simulator.stats
            #expect(stats.suppressedDuplicates == 1)
            #expect(stats.delivered == 2)
            #expect(stats.duplicates == 0)
        }
    }

    @Test func aDuplicateAfterTheWindowReachesTheUserAndIsCounted() async throws {
        try await SimulatorFixture.with(SimulatorConfiguration(dedupWindow: .seconds(600))) { fixture in
            let client = fixture.client()
            let first = await client.send(templateMessage(clientMsgID: "evt-1"), account: "demo")
            fixture.simulator.time.advance(by: .seconds(601))
            let late = await client.send(templateMessage(clientMsgID: "evt-1"), account: "demo")
            #expect(late.msgid != first.msgid)
            #expect(fixture.simulator.stats.duplicates == 1)
        }
    }

    @Test func anUnknownAccountIsTerminal() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            #expect(!client.hasAccount("nope"))
            let result = await client.send(templateMessage(), account: "nope")
            #expect(result == SendResult(errcode: -3, errmsg: "unknown account", action: .terminal))
        }
    }

    @Test(arguments: [
        ("unfollowed-bob", "TID", 43004, ErrorAction.terminal),
        ("refused-carol", "TID", 43101, .terminal),
        ("invalid-dave", "TID", 40003, .terminal),
        ("o-erin", "bad-template", 40037, .terminal),
    ])
    func refusalsSurfaceWithTheirAction(
        openid: String, templateID: String, errcode: Int, action: ErrorAction
    )
        async throws
    {
        try await SimulatorFixture.with { fixture in
            let result = await fixture.client().send(
                templateMessage(to: openid, templateID: templateID), account: "demo")
            #expect(result.errcode == errcode)
            #expect(result.action == action)
            #expect(result.msgid == nil)
            #expect(fixture.simulator.stats.errorsByCode[String(errcode)] == 1)
        }
    }

    @Test func aSubscribeFieldViolationIs47003() async throws {
        try await SimulatorFixture.with { fixture in
            let message = OutgoingMessage(
                kind: .subscribe, toUser: "o-alice", templateID: "TID-sub", page: "pages/order",
                clientMsgID: "c-1", data: ["thing1": FieldValue(value: String(repeating: "货", count: 21))])
            let result = await fixture.client().send(message, account: "demo")
            #expect(result.errcode == 47003)
            #expect(result.action == .terminal)
            #expect(result.errmsg.contains("thing1"))

            var fixed = message
            fixed.data["thing1"]?.value = FieldLimits.truncated(key: "thing1", value: message.data["thing1"]!.value)
            fixed.kind = .bizsend
            #expect(await fixture.client().send(fixed, account: "demo").errcode == 0)
        }
    }

    @Test func aWrongSecretIsAnAccountMisconfiguration() async throws {
        try await SimulatorFixture.with { fixture in
            for mode in [WeChatAccount.TokenMode.stable, .classic] {
                let client = fixture.client([fixture.account(secret: "wrong", tokenMode: mode)], expectingFailures: true)
                let result = await client.send(templateMessage(), account: "demo")
                #expect(result.errcode == 40125)
                #expect(result.action == .accountMisconfigured)
                #expect(!result.errmsg.contains("wrong"))
            }
            #expect(fixture.simulator.stats.sendRequests == 0)
        }
    }
}
