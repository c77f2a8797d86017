import Foundation
import Harness
import Testing
import WeChat

@Suite("Recipients who left or refused get no further calls, on any instance, until they come back")
struct RecipientsTests {
    static let token = "recipientsToken"

    static func event(_ id: String, to openid: String) -> SampleEvents.Event {
        let json = #"{"v":1,"id":"\#(id)","type":"order.shipped","to":"\#(openid)","data":{"order":{"id":"\#(id)"}}}"#
        return SampleEvents.Event(id: id, openid: openid, bytes: Array(json.utf8))
    }

    /// A callback event from `openid`, signed as WeChat signs plaintext callbacks.
    static func callback(port: Int, openid: String, event: String, nonce: String) async throws -> Int {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = CallbackSignature.make([token, timestamp, nonce])
        let body = CallbackMessage(fields: [
            "ToUserName": "gh_test", "FromUserName": openid, "CreateTime": timestamp, "MsgType": "event", "Event": event,
        ]).xml
        let url = "http://127.0.0.1:\(port)/wechat/callback/default?timestamp=\(timestamp)&nonce=\(nonce)&signature=\(signature)"
        return try await HTTPProbe.post(url, body: body).status
    }

    @Test(
        "an unfollow (callback) and a 43004 answer suppress the user: no further WeChat call, outcome suppressed, on a second instance too; a follow lifts it, and so does `recipients lift`"
    )
    func suppressAndLift() async throws {
        let run = try await ChaosRun.start("recipients", events: 0, openids: 1)
        func instance(_ name: String) throws -> (WXPushProcess, Int) {
            let port = try freeLocalPort()
            var options = RunOptions(inFlight: 8, instanceID: name)
            options.httpPort = port
            options.callbackToken = Self.token
            return (try run.instance(try run.configuration(options)), port)
        }
        func calls(_ openid: String) async throws -> Int { try await run.pipeline.wechatStats().messagesByOpenID[openid]?.count ?? 0 }
        func outcome(_ id: String) -> (status: String, code: String?)? {
            run.collector.all[id]?.last.map { ($0.outcome.status, $0.outcome.reasonCode) }
        }

        let (first, firstPort) = try instance("recipients-a")
        try await eventually("/readyz", timeout: .seconds(60)) {
            (try? await HTTPProbe.get("http://127.0.0.1:\(firstPort)/readyz"))?.status == 200
        }
        #expect(try await Self.callback(port: firstPort, openid: "o-leaver", event: "unsubscribe", nonce: "n1") == 200)
        try await run.produce([Self.event("e1", to: "unfollowed-1")])
        try await run.waitFor(ids: 1, timeout: .seconds(60), sampling: [first])
        #expect(outcome("e1")?.code == "errcode_terminal", "WeChat answered 43004")
        try await Task.sleep(for: .seconds(1))  // the recipients feed is a moment behind
        try await run.produce([Self.event("e2", to: "unfollowed-1"), Self.event("e3", to: "o-leaver")])
        try await run.waitFor(ids: 3, timeout: .seconds(60), sampling: [first])
        #expect(outcome("e2")?.code == "suppressed" && outcome("e3")?.code == "suppressed")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(30)) == 0)

        // A second instance reads the same suppressions from the topic.
        let (second, secondPort) = try instance("recipients-b")
        try await run.produce([Self.event("e4", to: "o-leaver")])
        try await run.waitFor(ids: 4, timeout: .seconds(60), sampling: [second])
        #expect(outcome("e4")?.code == "suppressed")
        #expect(try await Self.callback(port: secondPort, openid: "o-leaver", event: "subscribe", nonce: "n2") == 200)
        try await Task.sleep(for: .seconds(1))
        try await run.produce([Self.event("e5", to: "o-leaver")])
        try await run.waitFor(ids: 5, timeout: .seconds(60), sampling: [second])
        #expect(outcome("e5")?.status == "sent", "the follow lifted it")

        let config = try run.configuration(RunOptions(inFlight: 8, instanceID: "recipients-cli"))
        let shown = try WXPushProcess(["recipients", "show", "--config", config, "--openid", "unfollowed-1"])
        #expect(try await shown.waitForExit(timeout: .seconds(60)) == 0)
        #expect(shown.stdoutLines.contains { $0.hasPrefix("official_account: suppressed (errcode_43004") }, "\(shown.stdoutLines)")
        let lift = try WXPushProcess(["recipients", "lift", "--config", config, "--openid", "unfollowed-1"])
        #expect(try await lift.waitForExit(timeout: .seconds(60)) == 0)
        #expect(lift.stdoutLines.contains { $0.hasPrefix("lifted official_account") })
        try await Task.sleep(for: .seconds(1))
        try await run.produce([Self.event("e6", to: "unfollowed-1")])
        try await run.waitFor(ids: 6, timeout: .seconds(60), sampling: [second])
        #expect(outcome("e6")?.code == "errcode_terminal", "lifted: WeChat is asked again")
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)

        #expect(try await calls("o-leaver") == 1, "only the send after the follow reached WeChat")
        _ = await run.finish()
    }
}
