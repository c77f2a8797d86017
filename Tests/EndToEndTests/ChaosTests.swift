import Dispatcher
import Foundation
import Harness
import Kafka
import Simulator
import Testing
import Waiting

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
        let exit = try await run.killAndRestart(config, at: (1...5).map { _ in Int.random(in: 1_000..<18_000) })
        #expect(exit == 0)
        let row = await run.finish()
        #expect(row.lost == 0)
        #expect(row.duplicateDeliveries == 0)
        #expect(row.duplicateOutcomes == 0)
        #expect(row.inOrder)
        // What a kill redoes: the sends whose outcome was in the open transaction (aborted: counted
        // exactly), the sends in flight (at most partitions × window), and those done but waiting
        // for the transaction gate (a commit's duration; 200 is generous at this run's rate).
        #expect(row.wechatCalls <= row.events + row.abortedCopies + 5 * (6 * 16 + 200))
    }

    @Test(
        "crash with subscribe messages (no client_msg_id at WeChat): kill -9 three times; the sent log re-sends only what was in flight at a kill"
    )
    func crashSubscribe() async throws {
        let run = try await ChaosRun.start("crash, subscribe (3 × kill -9)", events: 6_000, openids: 600, shape: .rawSubscribe)
        let window = 4
        var options = RunOptions(inFlight: window)
        // A long commit interval: many sends done but not committed when a kill comes.
        options.commitInterval = "2s"
        let config = try run.configuration(options)
        try await run.produce()
        let exit = try await run.killAndRestart(config, at: (1...3).map { _ in Int.random(in: 500..<5_000) })
        #expect(exit == 0)
        let row = await run.finish()
        let fromLog = run.collector.all.values.filter { $0.first?.outcome.reason?.hasPrefix("already_sent") == true }.count
        print("chaos | crash, subscribe | outcomes reported from the sent log instead of sending again: \(fromLog)")
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count)
        #expect(row.duplicateOutcomes == 0)
        // WeChat may have accepted a send in flight at a kill before its sent-log record was
        // written: only those can reach a user twice (without the log: everything not committed).
        #expect(row.duplicateDeliveries <= 3 * 6 * window, "more re-sends than sends in flight at the kills")
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

    @Test("outages: WeChat down 60 s, then the brokers down 60 s; nothing failed, memory flat, resumes by itself")
    func outages() async throws {
        let run = try await ChaosRun.start(
            "outages (WeChat, Kafka)", events: 6_000, openids: 1_000, simulator: SimulatorConfiguration(latency: .milliseconds(50)))
        var options = RunOptions(inFlight: 4)
        options.maxAttempts = 10_000
        options.retryDeadline = "900s"
        options.maxBackoff = "5s"
        let child = try run.instance(try run.configuration(options))
        try await run.produce()
        try await run.waitFor(ids: 1_000, timeout: .seconds(120), sampling: [child])
        let before = try await run.sample(child, for: .seconds(1))
        run.pipeline.simulator.updateConfiguration { $0.unavailable = true }
        let duringWeChat = try await run.sample(child, for: .seconds(60))
        run.pipeline.simulator.updateConfiguration { $0.unavailable = false }
        try await run.waitFor(ids: 3_000, timeout: .seconds(120), sampling: [child])
        try run.pipeline.cluster.setBrokerDown(1)
        let duringKafka = try await run.sample(child, for: .seconds(60))
        try run.pipeline.cluster.setBrokerUp(1)
        try await run.waitFor(ids: run.events.count, timeout: .seconds(180), sampling: [child])
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        print(
            "chaos | outages: RSS before \(Int(before)) MiB, WeChat down peak \(Int(duringWeChat)) MiB, Kafka down peak \(Int(duringKafka)) MiB"
        )
        #expect(row.byStatus == ["sent": run.events.count])
        #expect(row.lost == 0)
        #expect(row.duplicateOutcomes == 0)
        #expect(row.duplicateDeliveries == 0)
        #expect(max(duringWeChat, duringKafka) < before + 64, "memory must stay flat during outages")
    }

    @Test("SIGTERM while the brokers are down: exits within drain_timeout + 5 s; a restart loses nothing")
    func sigtermDuringBrokerOutage() async throws {
        let run = try await ChaosRun.start(
            "SIGTERM, Kafka down", events: 3_000, openids: 500, simulator: SimulatorConfiguration(latency: .milliseconds(50)))
        let config = try run.configuration(RunOptions(inFlight: 4))  // drain_timeout 4s
        let first = try run.instance(config)
        try await run.produce()
        try await run.waitFor(ids: 500, timeout: .seconds(120), sampling: [first])
        try run.pipeline.cluster.setBrokerDown(1)
        try await Task.sleep(for: .seconds(2))
        let signalled = ContinuousClock.now
        first.signal(SIGTERM)
        _ = try await first.waitForExit(timeout: .seconds(60))
        let exitTime = ContinuousClock.now - signalled
        try run.pipeline.cluster.setBrokerUp(1)
        let second = try run.instance(config)
        try await run.waitFor(ids: run.events.count, timeout: .seconds(180), sampling: [second])
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        print("chaos | SIGTERM during a broker outage: exited after \(String(format: "%.1f", exitTime.seconds)) s")
        #expect(exitTime < .seconds(9))
        #expect(row.lost == 0)
        #expect(row.duplicateOutcomes == 0)
        #expect(row.duplicateDeliveries == 0)
    }

    @Test("hot key: one openid with 1,000 records among 10,000 others at 50 ms; the others are not held up")
    func hotKey() async throws {
        func othersTime(hot: Int) async throws -> (seconds: Double, row: ChaosRun.Row) {
            let run = try await ChaosRun.start(
                hot > 0 ? "hot key (1,000 × 1 openid)" : "hot key baseline", events: 10_000, openids: 10_000,
                simulator: SimulatorConfiguration(latency: .milliseconds(50)))
            let child = try run.instance(try run.configuration(RunOptions(inFlight: 64)))
            let hotEvents = SampleEvents.make(count: hot, openids: 1, shape: .rules, runID: "hot")
            // The hot openid's records spread evenly through the others.
            var mixed: [SampleEvents.Event] = []
            let step = max(1, run.events.count / max(hot, 1))
            for (index, event) in run.events.enumerated() {
                mixed.append(event)
                if index % step == 0, index / step < hot { mixed.append(hotEvents[index / step]) }
            }
            let start = ContinuousClock.now
            try await run.produce(mixed)
            let others = Set(run.events.map(\.id))
            try await eventually("the others' outcomes", timeout: .seconds(180)) {
                run.collector.all.keys.filter(others.contains).count == others.count
            }
            let seconds = (ContinuousClock.now - start).seconds
            child.signal(SIGTERM)
            _ = try await child.waitForExit(timeout: .seconds(60))
            return (seconds, await run.finish())
        }
        let baseline = try await othersTime(hot: 0)
        let withHotKey = try await othersTime(hot: 1_000)
        print(
            String(
                format: "chaos | hot key: the 10,000 others took %.2f s without it, %.2f s with it (%.2f×)", baseline.seconds,
                withHotKey.seconds, withHotKey.seconds / baseline.seconds))
        #expect(withHotKey.row.duplicateDeliveries == 0)
        // The goal is 1.1×; the bound here leaves room for a shared 2-core machine. Before the
        // scheduler, records waiting for the hot key held slots: the others took several times longer.
        #expect(withHotKey.seconds < baseline.seconds * 1.5 + 1)
    }
}
