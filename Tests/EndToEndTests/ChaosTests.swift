import Dispatcher
import Foundation
import Harness
import Kafka
import Simulator
import Testing

/// The chaos suite: `wxpush run` children against the embedded Kafka and the simulator, with their
/// fault injection. Each scenario prints one row (`chaos | …`); outcomes are read `read_committed`.
@Suite("Chaos: crashes, rebalances, WeChat faults, outages", .serialized)
struct ChaosTests {
    @Test("crash: kill -9 at 5 random moments and restart; nothing lost, nothing delivered or reported twice")
    func crash() async throws {
        let run = try await ChaosRun.start("crash (5 × kill -9)", events: 20_000, openids: 2_000)
        var options = RunOptions(inFlight: 16)
        options.commitInterval = "100ms"
        let config = try run.configuration(options)
        try await run.produce()
        var moments = (1...5).map { _ in Int.random(in: 1_000..<18_000) }.sorted()
        var child = try run.instance(config)
        while let moment = moments.first {
            moments.removeFirst()
            try await run.waitFor(ids: moment, timeout: .seconds(120), sampling: [child])
            child.signal(SIGKILL)
            _ = try await child.waitForExit(timeout: .seconds(10))
            child = try run.instance(config)
        }
        try await run.waitFor(ids: run.events.count, timeout: .seconds(180), sampling: [child])
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        #expect(row.lost == 0)
        #expect(row.duplicateDeliveries == 0)
        #expect(row.duplicateOutcomes == 0)
        #expect(row.inOrder)
        // What a kill redoes: the sends in flight, plus those whose transaction had not committed
        // yet (one commit interval's worth; this run does well under 2,000 events/s).
        #expect(row.wechatCalls <= row.events + 5 * (6 * 16 + 200))
    }

    @Test("rebalance: three instances, one joins and one leaves mid-run; order kept, nothing lost or delivered twice")
    func rebalance() async throws {
        let run = try await ChaosRun.start("rebalance (join, leave)", events: 10_000, openids: 1_000)
        func config(_ name: String) throws -> String {
            try run.configuration(RunOptions(inFlight: 16, instanceID: name))
        }
        let first = try run.instance(try config("a"))
        let second = try run.instance(try config("b"))
        try await run.produce()
        try await run.waitFor(ids: 2_000, timeout: .seconds(120), sampling: [first, second])
        let third = try run.instance(try config("c"))
        try await run.waitFor(ids: 5_000, timeout: .seconds(120), sampling: [first, second, third])
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
        try await run.waitFor(ids: run.events.count, timeout: .seconds(120), sampling: [first, third])
        for child in [first, third] { child.signal(SIGTERM) }
        for child in [first, third] { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let row = await run.finish()
        #expect(row.lost == 0)
        #expect(row.duplicateDeliveries == 0)
        #expect(row.duplicateOutcomes == 0)
        #expect(row.inOrder)
    }

    @Test("WeChat faults: 10% busy, 5% timeouts, 1% HTTP 500, tokens invalidated every few seconds; all sent")
    func wechatFaults() async throws {
        let faults = SimulatorConfiguration(
            latency: .milliseconds(10), busyFraction: 0.10, http500Fraction: 0.01, timeoutFraction: 0.05,
            hangDuration: .seconds(2), seed: 42)
        let run = try await ChaosRun.start("WeChat faults", events: 5_000, openids: 1_000, simulator: faults)
        var options = RunOptions(inFlight: 32)
        options.requestTimeout = "1s"
        options.maxAttempts = 20
        options.maxBackoff = "2s"
        let child = try run.instance(try run.configuration(options))
        try await run.produce()
        let invalidations = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(3))
                run.pipeline.simulator.invalidateAllTokens()
            }
        }
        try await run.waitFor(ids: run.events.count, timeout: .seconds(180), sampling: [child])
        invalidations.cancel()
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        #expect(row.byStatus == ["sent": run.events.count])
        #expect(row.duplicateOutcomes == 0)
        #expect(row.duplicateDeliveries == 0)
    }

    @Test("poison: random bytes, mutations, invalid UTF-8, deep nesting, 900 KB values; every record gets an outcome")
    func poison() async throws {
        let run = try await ChaosRun.start("poison", events: 0, openids: 1)
        let poison = PoisonRecords.make(count: 400, seed: 9)
        let child = try run.instance(try run.configuration(RunOptions(inFlight: 16)))
        try await PoisonRecords.produce(poison, to: run.pipeline)
        try await eventually("an outcome for each poison record", timeout: .seconds(120)) {
            run.collector.count >= poison.count || !child.process.isRunning
        }
        #expect(child.process.isRunning, "wxpush run must not crash on poison")
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        #expect(row.outcomes == poison.count)
    }
}
