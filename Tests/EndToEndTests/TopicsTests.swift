import Foundation
import Harness
import Testing

@Suite("Topics: `wxpush topics plan|create|check` and run's start-up check")
struct TopicsTests {
    @Test("a sent topic the broker auto-created with its own partition count is refused by run, naming the fix; exit 1")
    func autoCreatedSentTopic() async throws {
        let run = try await ChaosRun.start("topic layout", events: 0, openids: 1)
        let sent = run.pipeline.settings.sentTopic
        // A name nobody created: the embedded cluster creates it when asked, with its default count.
        let path = try configuration(run, replacing: ["sent: \(sent)": "sent: \(sent)-auto"])
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-layout-\(UUID().uuidString.prefix(8)).log")
        let child = try WXPushProcess(
            ["run", "--config", path], environment: ["WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret], stderr: log)
        #expect(try await child.waitForExit(timeout: .seconds(60)) != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("kafka.topics.sent: \(sent)-auto has "), "\(output)")
        #expect(output.contains("recreate it with partitions=6, cleanup.policy=compact,delete"), "\(output)")
        _ = await run.finish()
    }

    @Test("`topics check` on auto-created topics names each mismatch with its fix and exits 1; the planned layout passes")
    func checkOnTheEmbeddedCluster() async throws {
        let run = try await ChaosRun.start("topics check", events: 0, openids: 1)
        let settings = run.pipeline.settings
        let planned = try configuration(run)
        let good = try WXPushProcess(["topics", "check", "--config", planned])
        #expect(try await good.waitForExit(timeout: .seconds(30)) == 0, "\(good.stdoutLines)")
        #expect(good.stdoutLines.contains { $0.hasPrefix("note: configurations not checked") }, "\(good.stdoutLines)")
        #expect(good.stdoutLines.last?.hasPrefix("OK: 7 topics fit the plan") == true, "\(good.stdoutLines)")

        let auto = try configuration(
            run,
            replacing: [
                "sent: \(settings.sentTopic)": "sent: \(settings.sentTopic)-auto",
                "progress: \(settings.progressTopic)": "progress: \(settings.progressTopic)-auto",
            ])
        let bad = try WXPushProcess(["topics", "check", "--config", auto])
        #expect(try await bad.waitForExit(timeout: .seconds(30)) == 1)
        let problems = bad.stdoutLines.filter { $0.hasPrefix("problem: ") }
        #expect(problems.count == 2, "\(bad.stdoutLines)")
        #expect(problems.contains { $0.contains("kafka.topics.sent: \(settings.sentTopic)-auto has 4 partitions, the requests topic") })
        #expect(problems.contains { $0.contains("kafka.topics.progress: \(settings.progressTopic)-auto has 4 partitions, needs 1") })
        _ = await run.finish()
    }

    @Test(
        "on Tansu with librdkafka 2.16: `topics create` creates what is missing, again is idempotent, `check` reads configurations and refuses a compacted results topic",
        .enabled(if: KafkaLane.enabled))
    func createAndCheckOnTansu() async throws {
        let broker = try await KafkaLane.broker()
        defer { broker.stop() }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let planned = try Self.tansuConfiguration(broker, suffix: suffix)
        let first = try await Self.topics("create", planned)
        #expect(first.status == 0, "\(first.lines)")
        #expect(first.lines.filter { $0.hasPrefix("created  ") }.count == 14, "\(first.lines)")
        #expect(first.lines.last == "OK: 14 topics fit the plan", "\(first.lines)")
        #expect(!first.lines.contains { $0.hasPrefix("note:") }, "the configurations were read: \(first.lines)")
        let again = try await Self.topics("create", planned)
        #expect(again.status == 0)
        #expect(again.lines.filter { $0.hasPrefix("exists   ") }.count == 14, "\(again.lines)")

        // The sent log is compacted: a configuration that takes it for the results topic is refused.
        let compacted = try Self.tansuConfiguration(broker, suffix: suffix, results: "wxpush.sent.\(suffix)", sent: "\"\"")
        let check = try await Self.topics("check", compacted)
        #expect(check.status == 1)
        #expect(
            check.lines.contains { $0.hasPrefix("problem: kafka.topics.results: wxpush.sent.\(suffix) is compacted") },
            "\(check.lines)")
    }

    private func configuration(_ run: ChaosRun, replacing: [String: String] = [:]) throws -> String {
        let path = try run.configuration(RunOptions(inFlight: 4, instanceID: "layout"))
        var config = try String(contentsOfFile: path, encoding: .utf8)
        for (old, new) in replacing { config = config.replacingOccurrences(of: old, with: new) }
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func tansuConfiguration(
        _ broker: TansuBroker, suffix: some StringProtocol, results: String? = nil, sent: String? = nil
    ) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-topics-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            kafka:
              brokers: \(broker.bootstrapServers)
              topics:
                { requests: wxpush.requests.\(suffix), results: \(results ?? "wxpush.results.\(suffix)"), dlq: wxpush.dlq.\(suffix),
                  progress: wxpush.progress.\(suffix), msgids: wxpush.msgids.\(suffix), sent: \(sent ?? "wxpush.sent.\(suffix)"),
                  demand: wxpush.demand.\(suffix), recipients: wxpush.recipients.\(suffix) }
            wechat:
              accounts:
                default: { appid: wxlane, token_mode: stable, limits: { rate: 100/s } }
            rules: rules.yaml
            """
        try config.write(to: directory.appendingPathComponent("wxpush.yaml"), atomically: true, encoding: .utf8)
        try orderShippedRules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        return directory.appendingPathComponent("wxpush.yaml").path
    }

    private static func topics(_ command: String, _ config: String) async throws -> (status: Int32, lines: [String]) {
        let child = try WXPushProcess(["topics", command, "--config", config], environment: KafkaLane.childEnvironment)
        let status = try await child.waitForExit(timeout: .seconds(60))
        return (status, child.stdoutLines)
    }
}
