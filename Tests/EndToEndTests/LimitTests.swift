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
