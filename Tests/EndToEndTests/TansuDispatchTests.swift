import Foundation
import Harness
import Simulator
import Testing
import WeChat

/// The second Kafka lane end to end: `wxpush topics create` and `wxpush run` on librdkafka 2.16
/// against Tansu (another Kafka implementation), events produced and outcomes read with kcat on
/// the same library. The test process itself links librdkafka 2.0.2, which cannot talk to Tansu,
/// so everything Kafka goes through child processes.
@Suite("Second Kafka lane: librdkafka 2.16 and the Tansu broker", .enabled(if: KafkaLane.enabled), .serialized)
struct TansuDispatchTests {
    @Test("300 events over 30 openids: each sent once, in order per openid; one outcome each on the results topic; SIGTERM exits 0")
    func dispatch() async throws {
        let version = try await runTool("/usr/bin/kcat", ["-V"], environment: KafkaLane.childEnvironment)
        let library = version.split(separator: "\n").first { $0.contains("librdkafka") } ?? "?"
        print("lane | \(library.trimmingCharacters(in: .whitespaces)) | Tansu")
        #expect(library.contains("2.16"), "not the lane's librdkafka: \(version)")
        let lane = try await Lane.start(events: 300, openids: 30)
        defer { lane.stop() }
        let run = try lane.run()
        try await lane.produce()
        try await lane.waitForDeliveries(300, while: run)
        lane.expectEachDeliveredOnceInOrder()
        try await eventually("300 outcomes on the results topic", timeout: .seconds(60)) { try await lane.outcomeIDs().count >= 300 }
        run.signal(SIGTERM)
        #expect(try await run.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test("exactly-once on a real broker: 3,000 events, kill -9 three times mid-run; 0 lost, each delivered once, in order")
    func killedThreeTimes() async throws {
        let lane = try await Lane.start(events: 3_000, openids: 300)
        defer { lane.stop() }
        var run = try lane.run()
        try await lane.produce()
        for moment in [600, 1_400, 2_200] {
            try await lane.waitForDeliveries(moment, while: run)
            run.signal(SIGKILL)
            _ = try await run.waitForExit(timeout: .seconds(10))
            run = try lane.run()  // the same instance_id: its transactional id fences the killed one at once
        }
        try await lane.waitForDeliveries(3_000, while: run)
        lane.expectEachDeliveredOnceInOrder()
        // Every id has an outcome. (Tansu shows aborted transactions to read_committed readers, a
        // known gap of that broker: the killed runs' unfinished outcomes may appear too, so
        // duplicate outcomes are not counted here; the mock-cluster chaos suite counts them.)
        try await eventually("an outcome for every id", timeout: .seconds(90)) { try await lane.outcomeIDs().count >= 3_000 }
        run.signal(SIGTERM)
        #expect(try await run.waitForExit(timeout: .seconds(30)) == 0)
        let calls = lane.simulator.simulator.stats.messagesByOpenID.values.reduce(0) { $0 + $1.count }
        print("lane | kill -9 × 3 on Tansu | events 3000 | delivered \(calls) | lost 0")
    }
}

/// One lane scenario's world: a Tansu broker, the simulator, a configuration with unique topics
/// (created by `wxpush topics create`), and the events.
private final class Lane: Sendable {
    let broker: TansuBroker
    let simulator: (simulator: WeChatSimulator, baseURL: String, task: Task<Void, any Error>)
    let config: String
    let log: URL
    let suffix: String
    let events: [SampleEvents.Event]

    static func start(events count: Int, openids: Int) async throws -> Lane {
        let broker = try await KafkaLane.broker()
        let simulator = try await WeChatSimulator.start(configuration: SimulatorConfiguration(), logger: .test("wxpush.lane"))
        let suffix = String(UUID().uuidString.prefix(8).lowercased())
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
        dispatcher: { in_flight: 8, drain_timeout: 4s, commit_interval: 500ms, instance_id: lane-\(suffix) }
        rules: rules.yaml
        """.write(toFile: config, atomically: true, encoding: .utf8)
        try orderShippedRules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let create = try WXPushProcess(["topics", "create", "--config", config], environment: KafkaLane.childEnvironment)
        #expect(try await create.waitForExit(timeout: .seconds(60)) == 0, "\(create.stdoutLines)")
        return Lane(
            broker: broker, simulator: simulator, config: config, log: directory.appendingPathComponent("run.log"), suffix: suffix,
            events: SampleEvents.make(count: count, openids: openids, shape: .rules))
    }

    private init(
        broker: TansuBroker, simulator: (simulator: WeChatSimulator, baseURL: String, task: Task<Void, any Error>), config: String,
        log: URL, suffix: String, events: [SampleEvents.Event]
    ) {
        (self.broker, self.simulator, self.config, self.log, self.suffix, self.events) = (broker, simulator, config, log, suffix, events)
    }

    func stop() {
        simulator.task.cancel()
        broker.stop()
    }

    func run() throws -> WXPushProcess {
        try WXPushProcess(
            ["run", "--config", config],
            environment: KafkaLane.childEnvironment.merging(["WXPUSH_SECRET_DEFAULT": "demo-secret", "WXPUSH_LOG_LEVEL": "warning"]) { $1 },
            stderr: log)
    }

    func produce() async throws {
        let lines = events.map { "\($0.openid)\t\(String(decoding: $0.bytes, as: UTF8.self))" }.joined(separator: "\n") + "\n"
        _ = try await runTool(
            "/usr/bin/kcat", ["-b", broker.bootstrapServers, "-P", "-t", "requests.\(suffix)", "-K", "\t"], input: lines,
            environment: KafkaLane.childEnvironment)
    }

    var delivered: Int { simulator.simulator.stats.messagesByOpenID.values.reduce(0) { $0 + $1.count } }

    func waitForDeliveries(_ count: Int, while run: WXPushProcess) async throws {
        try await eventually("\(count) deliveries at the simulator", timeout: .seconds(120)) { self.delivered >= count || !run.isRunning }
        #expect(run.isRunning, "wxpush run stopped: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// Each event delivered once, and each recipient's in the order produced.
    func expectEachDeliveredOnceInOrder() {
        let stats = simulator.simulator.stats
        #expect(delivered == events.count, "\(delivered) deliveries for \(events.count) events")
        for (openid, received) in stats.messagesByOpenID {
            let produced = events.filter { $0.openid == openid }.map { ClientMessageID.derive(fromEventID: $0.id) }
            #expect(received.map(\.clientMsgID) == produced, "order for \(openid)")
        }
    }

    /// The request ids with a `sent` outcome on the results topic (read_committed, through kcat).
    func outcomeIDs() async throws -> Set<String> {
        let read = try await runTool(
            "/usr/bin/kcat",
            [
                "-b", broker.bootstrapServers, "-C", "-t", "results.\(suffix)", "-o", "beginning", "-e", "-q", "-X",
                "isolation.level=read_committed", "-f", "%k\n",
            ],
            environment: KafkaLane.childEnvironment, timeout: .seconds(30))
        return Set(read.split(separator: "\n").map(String.init))
    }
}
