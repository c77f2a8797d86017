import Foundation
import Harness
import Simulator
import Testing

@Suite("Account limits across instances", .serialized)
struct LimitTests {
    @Test("two instances hold the account's 100/s together (each its half of the partitions); no 45011, nothing lost or failed")
    func twoInstancesShareTheRate() async throws {
        // The simulator holds WeChat's side of the limit: 100/s, one second of it at once; above it, 45011.
        var simulator = SimulatorConfiguration()
        simulator.rateLimit = RateLimit(perSecond: 100, burst: 100)
        let run = try await ChaosRun.start("limits (2 × share of 100/s)", events: 1_500, openids: 500, simulator: simulator)
        func config(_ name: String) throws -> String {
            var options = RunOptions(inFlight: 32, instanceID: name)
            options.limits = "{ rate: 100/s, burst: 20 }"
            return try run.configuration(options)
        }
        let logs = (0..<2).map { _ in
            FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-limits-\(UUID().uuidString.prefix(8)).log")
        }
        let first = try run.instance(try config("a"), log: logs[0])
        let second = try run.instance(try config("b"), log: logs[1])
        // Both in the group, each holding its 3 of 6 partitions, before the load arrives.
        try await LimitRun.waitForShares(logs: logs, partitions: 6, timeout: .seconds(60))
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(90), sampling: [first, second])
        for child in [first, second] { child.signal(SIGTERM) }
        for child in [first, second] { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let rate = LimitRun.midRunRate(run.pipeline.simulator.stats)
        let errors = run.pipeline.simulator.stats.errorsByCode
        let row = await run.finish()
        print("limits | configured 100/s | measured at the simulator \(String(format: "%.1f", rate))/s with 2 instances")
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count)
        #expect(row.duplicateDeliveries == 0)
        #expect(errors["45011"] == nil, "the simulator answered 45011: the limit was overrun")
        #expect(abs(rate - 100) <= 10, "measured \(rate)/s against 100/s")
    }
}

@Suite("The daily quota", .serialized)
struct QuotaTests {
    @Test(
        "WeChat's quota (read with quota/get) parks the rest of the backlog before any 45009, nothing failed; an operator's reset sends it; the quota gauges count"
    )
    func quotaWaitAndOperatorReset() async throws {
        let run = try await ChaosRun.start("daily quota (45009, reset)", events: 300, openids: 150)
        run.pipeline.simulator.updateConfiguration { $0.dailyQuota = 120 }
        let port = try freeLocalPort()
        var options = RunOptions(inFlight: 16, instanceID: "quota")
        options.httpPort = port
        options.adminToken = "admin-token-0123456789"
        options.limits = "{ rate: 1000/s, daily_quota: 1000000 }"
        let child = try run.instance(try run.configuration(options))
        let base = "http://127.0.0.1:\(port)"
        try await eventually("/readyz 200", timeout: .seconds(60)) { (try? await HTTPProbe.get(base + "/readyz"))?.status == 200 }
        try await run.produce()
        try await run.waitFor(ids: 120, timeout: .seconds(60), sampling: [child])
        // The rest waits for the quota (WeChat said 45009): for hours, were it not for the reset.
        // Each recipient's first unsent record is parked; its later ones wait for their turn.
        try await eventually("the rest of the backlog parked", timeout: .seconds(30)) {
            HTTPProbe.sum(try await HTTPProbe.get(base + "/metrics").body, "wxpush_records_waiting") >= 50
        }
        try await Task.sleep(for: .seconds(2))
        #expect(run.collector.distinctIDs == 120)
        #expect(!run.collector.all.values.contains { $0.first?.outcome.status == "failed" })
        let metrics = try await HTTPProbe.get(base + "/metrics").body
        #expect(HTTPProbe.sum(metrics, "wxpush_limit_share", ["account": "default"]) == 1)
        #expect(HTTPProbe.sum(metrics, "wxpush_quota_used_today", ["account": "default"]) >= 120)
        // Calibrated from quota/get at start (120, not the configured 1,000,000): counted, not refused.
        #expect(HTTPProbe.sum(metrics, "wxpush_quota_budget_today", ["account": "default"]) == 120)
        #expect(HTTPProbe.sum(metrics, "wxpush_records_waiting", ["reason": "limit"]) >= 50)
        #expect(run.pipeline.simulator.stats.errorsByCode["45009"] == nil, "WeChat had to refuse: the quota was not calibrated")

        #expect(try await HTTPProbe.post(base + "/v1/accounts/default/quota/reset", body: "").status == 401)
        #expect(
            try await HTTPProbe.post(
                base + "/v1/accounts/nobody/quota/reset", body: "", headers: [("Authorization", "Bearer admin-token-0123456789")]
            )
            .status == 404)
        // The operator raised the quota at WeChat (clear_quota), then clears wxpush's wait.
        run.pipeline.simulator.updateConfiguration { $0.dailyQuota = .max }
        let reset = try await HTTPProbe.post(
            base + "/v1/accounts/default/quota/reset", body: "", headers: [("Authorization", "Bearer admin-token-0123456789")])
        #expect(reset.status == 200)
        try await run.waitFor(ids: run.events.count, timeout: .seconds(60), sampling: [child])
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        // The simulator's quota/get and clear_quota, as an operator would call them.
        let api = run.pipeline.simulatorURL
        let account = run.pipeline.account
        let grant = try await HTTPProbe.post(
            api + "/cgi-bin/stable_token",
            body: #"{"grant_type":"client_credential","appid":"\#(account.appID)","secret":"\#(account.secret)"}"#)
        let token = try #require(grant.body.split(separator: "\"").dropFirst(3).first.map(String.init))
        let before = try await HTTPProbe.post(
            api + "/cgi-bin/openapi/quota/get?access_token=\(token)", body: #"{"cgi_path":"/cgi-bin/message/template/send"}"#)
        #expect(before.body.contains(#""used":300"#), "\(before.body)")
        let cleared = try await HTTPProbe.post(api + "/cgi-bin/clear_quota?access_token=\(token)", body: #"{"appid":"\#(account.appID)"}"#)
        #expect(cleared.body.contains(#""errcode":0"#))
        let after = try await HTTPProbe.post(
            api + "/cgi-bin/openapi/quota/get?access_token=\(token)", body: #"{"cgi_path":"/cgi-bin/message/template/send"}"#)
        #expect(after.body.contains(#""used":0"#), "\(after.body)")
        let row = await run.finish()
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count, "\(row.byStatus)")
        #expect(row.duplicateDeliveries == 0)
    }
}
