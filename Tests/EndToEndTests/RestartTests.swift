import Dispatcher
import Foundation
import Harness
import Kafka
import Logging
import Simulator
import Testing

/// `wxpush run` as a child process against the embedded Kafka and the simulator: stopped mid-run
/// (SIGTERM, and separately SIGKILL) and started again.
@Suite("wxpush run: stop and restart mid-run")
struct RestartTests {
    let logger = Logger.test("wxpush.test")

    @Test("SIGTERM mid-run: exit 0, then a restart finishes; every id has an outcome; nothing is sent twice")
    func gracefulStop() async throws {
        let outcome = try await stopAndRestart(signal: SIGTERM)
        #expect(outcome.firstExit == 0)
        #expect(outcome.missing == 0)
        #expect(outcome.stats.duplicates == 0)
        // The drain finished and committed every started send: the restart re-sent nothing.
        #expect(outcome.stats.suppressedDuplicates == 0)
        #expect(outcome.stats.delivered == outcome.total)
        #expect(outcome.uncommitted == 0)
    }

    @Test("SIGKILL mid-run: a restart finishes; every id has an outcome; WeChat delivers each message once")
    func crash() async throws {
        let outcome = try await stopAndRestart(signal: SIGKILL)
        #expect(outcome.missing == 0)
        // Re-sent after the crash, de-duplicated by client_msg_id: one delivery per id.
        #expect(outcome.stats.duplicates == 0)
        #expect(outcome.stats.delivered == outcome.total)
        #expect(outcome.uncommitted == 0)
    }

    struct Outcome {
        let firstExit: Int32
        let missing: Int
        let total: Int
        let stats: SimulatorStats
        let uncommitted: Int64
    }

    private func stopAndRestart(signal: Int32) async throws -> Outcome {
        let total = 3_000
        let pipeline = try await EmbeddedPipeline.start(simulator: SimulatorConfiguration(latency: .milliseconds(20)), logger: logger)
        let config = try pipeline.writeRunConfiguration(rulesYAML: orderShippedRules, inFlight: 16).path
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        let events = SampleEvents.make(count: total, openids: 300, shape: .rules)
        try await LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic).produce(events)

        let environment = ["WXPUSH_SECRET_DEFAULT": pipeline.account.secret, "WXPUSH_LOG_LEVEL": "warning"]
        let first = try WXPushProcess(["run", "--config", config], environment: environment)
        try await collector.waitFor(ids: 500, timeout: .seconds(60))
        first.signal(signal)
        let firstExit = try await first.waitForExit(timeout: .seconds(30))
        let afterStop = collector.distinctIDs
        #expect(afterStop < total, "the run should have been stopped mid-way")

        let second = try WXPushProcess(["run", "--config", config], environment: environment)
        try await collector.waitFor(ids: total, timeout: .seconds(120))
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
        await collector.stop()
        let missing = events.filter { collector.all[$0.id] == nil }.count
        let stats = pipeline.simulator.stats
        let uncommitted = try await pipeline.uncommittedRequests()
        await pipeline.stop()
        return Outcome(firstExit: firstExit, missing: missing, total: total, stats: stats, uncommitted: uncommitted)
    }
}
