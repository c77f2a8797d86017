import Foundation
import Harness
import Simulator
import Testing

@Suite("Account limits across instances", .serialized)
struct LimitTests {
    /// The simulator holds WeChat's side of the limit: 200/s, one second of it at once; above it, 45011.
    static func simulator() -> SimulatorConfiguration {
        var simulator = SimulatorConfiguration()
        simulator.rateLimit = RateLimit(perSecond: 200, burst: 200)
        return simulator
    }

    /// A simulator that counts sends and never answers 45011: nothing to learn the limit from,
    /// so only wxpush's own accounting holds it.
    static func countingSimulator() -> SimulatorConfiguration { SimulatorConfiguration() }

    /// One instance's configuration; a nil `name` leaves `instance_id` out, as a user does.
    static func config(_ run: ChaosRun, _ name: String?) throws -> String {
        var options = RunOptions(inFlight: 32, instanceID: name)
        options.defaultInstanceID = name == nil
        options.limits = "{ rate: 200/s, burst: 40 }"
        // The embedded cluster holds a cooperative rebalance's second round for the session
        // timeout minus a second, with the moved partitions owned by nobody (a real broker goes
        // on once every member rejoined): 3 s keeps that wait near a real broker's.
        options.sessionTimeoutMilliseconds = 3_000
        options.drainTimeout = "2s"  // within the session timeout (check-config insists)
        return try run.configuration(options)
    }

    static func log() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-limits-\(UUID().uuidString.prefix(8)).log")
    }

    @Test(
        "1, 2 and 3 instances started alike (no instance_id) hold the account's 200/s ±5% at a simulator that never answers 45011; nothing lost",
        arguments: [1, 2, 3])
    func instancesShareTheRate(instances: Int) async throws {
        let run = try await ChaosRun.start(
            "limits (\(instances) × plain, 200/s)", events: 6_000, openids: 1_000, simulator: Self.countingSimulator())
        let config = try Self.config(run, nil)
        let logs = (0..<instances).map { _ in Self.log() }
        let children = try logs.map { log in try run.instance(config, log: log) }
        // Every instance in the group, holding its share of the partitions, before the load arrives.
        try await LimitRun.waitForShares(logs: logs, partitions: 6, timeout: .seconds(60))
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(120), sampling: children)
        for child in children { child.signal(SIGTERM) }
        for child in children { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let rate = LimitRun.midRunRate(run.pipeline.simulator.stats)
        let row = await run.finish()
        print(
            "limits | configured 200/s | measured at a counting simulator \(String(format: "%.1f", rate))/s with \(instances) plain instance(s)"
        )
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count)
        #expect(row.duplicateDeliveries == 0)
        #expect(abs(rate - 200) <= 10, "measured \(rate)/s against 200/s")
    }

    @Test("a second live process with the same explicit instance_id is refused at start, naming the first's incarnation; the first goes on")
    func duplicateInstanceID() async throws {
        let run = try await ChaosRun.start("limits (one instance_id twice)", events: 10, openids: 10, simulator: Self.simulator())
        var options = RunOptions(inFlight: 8, instanceID: "twin")
        options.limits = "{ rate: 200/s }"
        options.sessionTimeoutMilliseconds = 3_000
        options.drainTimeout = "2s"
        let config = try run.configuration(options)
        let logs = [Self.log(), Self.log()]
        // The first runs (and announces itself) before the second starts: the second is refused at
        // start, before its transactional producer could fence the first.
        let first = try run.instance(config, log: logs[0])
        try await LimitRun.waitForShares(logs: [logs[0]], partitions: 6, timeout: .seconds(60))
        let children = [first, try run.instance(config, log: logs[1])]
        try await eventually("one of the two to stop", timeout: .seconds(60)) { children.contains { !$0.isRunning } }
        let stopped = children.firstIndex { !$0.isRunning }!
        #expect(stopped == 1, "the one that was there stopped")
        #expect(try await children[stopped].waitForExit() != 0)
        let message = try String(contentsOf: logs[stopped], encoding: .utf8)
        #expect(message.contains("another live wxpush (incarnation "))
        #expect(message.contains("runs with dispatcher.instance_id twin"))
        // The one that was there first goes on, and stops cleanly.
        let other = children[1 - stopped]
        #expect(other.isRunning)
        other.signal(SIGTERM)
        #expect(try await other.waitForExit(timeout: .seconds(30)) == 0)
        _ = await run.finish()
    }

    @Test(
        "a join and a leave mid-run (plain instances, a counting simulator) over a minute: within ±15% of 200/s; nothing lost")
    func rebalanceMidRun() async throws {
        // A minute of load: a third instance joins after a quarter of it, the first leaves at half.
        let run = try await ChaosRun.start(
            "limits (join + leave, 200/s)", events: 12_000, openids: 1_000, simulator: Self.countingSimulator())
        let config = try Self.config(run, nil)
        let logs = (0..<2).map { _ in Self.log() }
        let first = try run.instance(config, log: logs[0])
        let second = try run.instance(config, log: logs[1])
        try await LimitRun.waitForShares(logs: logs, partitions: 6, timeout: .seconds(60))
        try await run.produce()
        try await run.waitFor(ids: 3_000, timeout: .seconds(60), sampling: [first, second])
        let third = try run.instance(config)
        try await run.waitFor(ids: 6_000, timeout: .seconds(60), sampling: [first, second, third])
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(30)) == 0)
        try await run.waitFor(ids: run.events.count, timeout: .seconds(120), sampling: [second, third])
        for child in [second, third] { child.signal(SIGTERM) }
        for child in [second, third] { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let rate = LimitRun.midRunRate(run.pipeline.simulator.stats)
        let row = await run.finish()
        print(
            "limits | configured 200/s | measured at a counting simulator \(String(format: "%.1f", rate))/s with a join and a leave mid-run"
        )
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count)
        #expect(row.duplicateDeliveries == 0)
        #expect(abs(rate - 200) <= 30, "measured \(rate)/s against 200/s")
    }
}

extension LimitTests {
    @Test(
        "the demand exchange: all the load on 2 of 6 partitions, 3 plain instances, most of the budget used and no more, at a counting simulator"
    )
    func demandExchangeOnSkewedLoad() async throws {
        var run = LimitRun(instances: 3, events: 2_400, openids: 600, limits: "{ rate: 200/s, burst: 40 }", loadedPartitions: [0, 1])
        run.simulatorRate = nil  // counts, never answers 45011: the instances' own accounting holds the limit
        run.demandExchange = true
        let result = try await run.execute(executable: try WXPushProcess.executable().path, logger: .test("wxpush.limits"))
        print("limits | demand exchange, skewed load | measured \(String(format: "%.1f", result.deliveredPerSecond))/s of 200/s")
        #expect(result.byStatus["sent"] == 2_400)
        // By partitions alone it is 2/3 of the rate (measured 66.7%); never above the limit.
        #expect(result.deliveredPerSecond >= 0.8 * 200, "measured \(result.deliveredPerSecond)/s")
        #expect(result.deliveredPerSecond <= 1.05 * 200, "measured \(result.deliveredPerSecond)/s")
    }

    @Test("priorities: a high-priority topic gets the bound rate first, the low one keeps its minimum share; no 45011")
    func priorities() async throws {
        var simulator = SimulatorConfiguration()
        simulator.rateLimit = RateLimit(perSecond: 40, burst: 40)
        let run = try await ChaosRun.start("limits (priorities, 40/s)", events: 600, openids: 300, simulator: simulator)
        let high = run.pipeline.settings.requestsTopic + ".high"
        try run.pipeline.cluster.createTopic(high, partitions: 6)
        var options = RunOptions(inFlight: 16, instanceID: "prio")
        options.limits = "{ rate: 40/s, burst: 5 }"
        options.priorityTopic = high
        options.priorityMinShare = 0.1
        let child = try run.instance(try run.configuration(options))
        try await run.produce()
        try await run.waitFor(ids: 100, timeout: .seconds(60), sampling: [child])
        let urgent = SampleEvents.make(count: 200, openids: 100, shape: .rules, runID: "urgent")
        try await LoadGenerator(kafka: run.pipeline.kafka, topic: high).produce(urgent)
        try await run.waitFor(ids: 800, timeout: .seconds(90), sampling: [child])
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let stats = run.pipeline.simulator.stats
        let row = await run.finish()
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == 800)
        #expect(stats.errorsByCode["45011"] == nil, "the simulator answered 45011")
        let deliveries = stats.messagesByOpenID.flatMap { openid, messages in
            messages.map { (urgent: openid.hasPrefix("ourgent"), at: $0.receivedAt.timeIntervalSince1970) }
        }
        let urgentTimes = deliveries.filter(\.urgent).map(\.at).sorted()
        let (first, last) = (urgentTimes[10], urgentTimes[urgentTimes.count - 10])
        let during = deliveries.filter { !$0.urgent && $0.at >= first && $0.at <= last }.count
        let urgentRate = Double(urgentTimes.count - 20) / (last - first)
        let lowRate = Double(during) / (last - first)
        print(
            "limits | priorities | urgent \(String(format: "%.1f", urgentRate))/s, low \(String(format: "%.1f", lowRate))/s meanwhile (rate 40/s, min share 10%)"
        )
        #expect(urgentRate >= 0.7 * 40, "the high priority did not get the budget first")
        #expect(lowRate > 0, "the low priority was starved")
        #expect(lowRate <= 0.3 * 40)
        let lastLow = deliveries.filter { !$0.urgent }.map(\.at).max() ?? 0
        #expect(urgentTimes.last! < lastLow, "the low backlog finished first")
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
        // With an operator token set, /metrics wants it too.
        #expect(try await HTTPProbe.get(base + "/metrics").status == 401)
        let operatorAuth = [("Authorization", "Bearer admin-token-0123456789")]
        try await eventually("the rest of the backlog parked", timeout: .seconds(30)) {
            let metrics = try await HTTPProbe.exchange(base + "/metrics", post: false, body: nil, headers: operatorAuth).body
            return HTTPProbe.sum(metrics, "wxpush_records_waiting") >= 50
        }
        try await Task.sleep(for: .seconds(2))
        #expect(run.collector.distinctIDs == 120)
        #expect(!run.collector.all.values.contains { $0.first?.outcome.status == "failed" })
        let metrics = try await HTTPProbe.exchange(base + "/metrics", post: false, body: nil, headers: operatorAuth).body
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
