import Foundation
import Harness
import Simulator
import Testing
import WeChat

/// The second Kafka lane end to end: `wxpush topics create` and `wxpush run` on librdkafka 2.16
/// against Tansu (another Kafka implementation), events produced and outcomes read with kcat on
/// the same library. The test process itself links librdkafka 2.0.2, which cannot talk to Tansu,
/// so everything Kafka goes through child processes.
@Suite("Second Kafka lane: librdkafka 2.16 and the Tansu broker", .enabled(if: KafkaLane.enabled))
struct TansuDispatchTests {
    @Test("300 events over 30 openids: each sent once, in order per openid; one outcome each on the results topic; SIGTERM exits 0")
    func dispatch() async throws {
        let version = try await runTool("/usr/bin/kcat", ["-V"], environment: KafkaLane.childEnvironment)
        let library = version.split(separator: "\n").first { $0.contains("librdkafka") } ?? "?"
        print("lane | \(library.trimmingCharacters(in: .whitespaces)) | Tansu")
        #expect(library.contains("2.16"), "not the lane's librdkafka: \(version)")

        let broker = try await TansuBroker()
        defer { broker.stop() }
        let simulator = try await WeChatSimulator.start(configuration: SimulatorConfiguration(), logger: .test("wxpush.lane"))
        defer { simulator.task.cancel() }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-lane-\(suffix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("wxpush.yaml").path
        try """
        kafka:
          brokers: \(broker.bootstrapServers)
          group: lane-\(suffix)
          topics:
            { requests: requests.\(suffix), results: results.\(suffix), dlq: dlq.\(suffix), progress: progress.\(suffix),
              msgids: msgids.\(suffix), sent: sent.\(suffix) }
        wechat:
          api_base: \(simulator.baseURL)
          accounts:
            default: { appid: wxdemo, token_mode: stable }
        dispatcher: { in_flight: 8, drain_timeout: 4s, commit_interval: 500ms }
        rules: rules.yaml
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try orderShippedRules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)

        let create = try WXPushProcess(["topics", "create", "--config", config], environment: KafkaLane.childEnvironment)
        #expect(try await create.waitForExit(timeout: .seconds(60)) == 0, "\(create.stdoutLines)")
        let log = directory.appendingPathComponent("run.log")
        let run = try WXPushProcess(
            ["run", "--config", config],
            environment: KafkaLane.childEnvironment.merging(["WXPUSH_SECRET_DEFAULT": "demo-secret", "WXPUSH_LOG_LEVEL": "warning"]) { $1 },
            stderr: log)
        let events = SampleEvents.make(count: 300, openids: 30, shape: .rules)
        let lines = events.map { "\($0.openid)\t\(String(decoding: $0.bytes, as: UTF8.self))" }.joined(separator: "\n") + "\n"
        _ = try await runTool(
            "/usr/bin/kcat", ["-b", broker.bootstrapServers, "-P", "-t", "requests.\(suffix)", "-K", "\t"], input: lines,
            environment: KafkaLane.childEnvironment)
        try await eventually("300 sends at the simulator", timeout: .seconds(90)) {
            simulator.simulator.stats.messagesByOpenID.values.reduce(0) { $0 + $1.count } >= 300 || !run.isRunning
        }
        #expect(run.isRunning, "wxpush run stopped: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let stats = simulator.simulator.stats
        let perOpenID = stats.messagesByOpenID.mapValues { $0.count }
        #expect(perOpenID.values.reduce(0, +) == 300, "each event sent once")
        // In order per openid: the simulator saw each recipient's events in the order produced.
        for (openid, received) in stats.messagesByOpenID {
            let sent = events.filter { $0.openid == openid }.map(\.id)
            #expect(received.map(\.clientMsgID) == sent.map { ClientMessageID.derive(fromEventID: $0) }, "order for \(openid)")
        }
        try await eventually("300 outcomes on the results topic", timeout: .seconds(60)) {
            let read = try await runTool(
                "/usr/bin/kcat",
                [
                    "-b", broker.bootstrapServers, "-C", "-t", "results.\(suffix)", "-o", "beginning", "-e", "-q", "-X",
                    "isolation.level=read_committed",
                ],
                environment: KafkaLane.childEnvironment, timeout: .seconds(30))
            return Set(read.split(separator: "\n").filter { $0.contains(#""status":"sent""#) }).count >= 300
        }
        run.signal(SIGTERM)
        #expect(try await run.waitForExit(timeout: .seconds(30)) == 0)
    }
}
