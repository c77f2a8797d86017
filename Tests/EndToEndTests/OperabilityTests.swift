import Foundation
import Harness
import Simulator
import Testing

@Suite("Running it as an operator would: the admin port, probes that flip, JSON logs, scrape-time metrics")
struct OperabilityTests {
    @Test(
        "with http.admin_port the public port serves only callbacks and the intake; /healthz fails while sends are stuck and recovers; every log line is JSON; an environment override applies"
    )
    func adminPortProbesAndJSONLogs() async throws {
        // Every send takes 4 s; the stall limit (set through the environment) is 1 s.
        let run = try await ChaosRun.start("operability", events: 12, openids: 12, simulator: SimulatorConfiguration(latency: .seconds(4)))
        let port = try freeLocalPort()
        let adminPort = try freeLocalPort()
        var options = RunOptions(inFlight: 16, instanceID: "operability")
        options.httpPort = port
        options.httpLimits = "admin_port: \(adminPort)"
        options.callbackToken = "operabilityToken"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-operability-\(UUID().uuidString.prefix(8)).log")
        let child = try WXPushProcess(
            ["run", "--config", try run.configuration(options)],
            environment: [
                "WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret, "WXPUSH_LOG_LEVEL": "info", "WXPUSH_LOG_FORMAT": "json",
                "WXPUSH_DISPATCHER__STALL_TIMEOUT": "1s",
            ],
            stderr: log)
        let admin = "http://127.0.0.1:\(adminPort)"
        try await eventually("/readyz 200 on the admin port", timeout: .seconds(60)) {
            (try? await HTTPProbe.get(admin + "/readyz"))?.status == 200
        }
        for path in ["/metrics", "/healthz", "/readyz"] {
            #expect(try await HTTPProbe.get("http://127.0.0.1:\(port)\(path)").status == 404, "\(path) on the public port")
        }
        let callback = try await HTTPProbe.get("http://127.0.0.1:\(port)/wechat/callback/default")
        #expect(callback.status != 404, "the callback stays on the public port")
        let metrics = try await HTTPProbe.get(admin + "/metrics").body
        for name in ["wxpush_build_info{version=", "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds "] {
            #expect(metrics.contains(name), "\(name) missing from /metrics")
        }
        #expect(metrics.contains(#"wxpush_rebalances_total{event="assigned"} 1"#))
        #expect(try await HTTPProbe.get(admin + "/healthz").status == 200)

        try await run.produce()
        try await eventually("/healthz 503 while sends are stuck", timeout: .seconds(20)) {
            (try? await HTTPProbe.get(admin + "/healthz"))?.status == 503
        }
        let stalled = try await HTTPProbe.get(admin + "/healthz")
        #expect(stalled.body.contains(run.pipeline.settings.requestsTopic), "names the partition: \(stalled.body)")
        try await run.waitFor(ids: run.events.count, timeout: .seconds(60), sampling: [child])
        try await eventually("/healthz 200 once sends end", timeout: .seconds(20)) {
            (try? await HTTPProbe.get(admin + "/healthz"))?.status == 200
        }
        let after = try await HTTPProbe.get(admin + "/metrics").body
        #expect(after.contains("wxpush_end_to_end_seconds_count \(run.events.count)"), "one end-to-end latency per outcome")
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        _ = await run.finish()

        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 3)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            for key in ["timestamp", "level", "logger", "message"] { #expect(object?[key] is String, "no \(key): \(line)") }
        }
        #expect(lines.contains { $0.contains(#""message":"wxpush starting""#) })
    }
}
