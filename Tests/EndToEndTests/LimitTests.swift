import Foundation
import Harness
import Simulator
import Testing

@Suite("Account limits across instances", .serialized)
struct LimitTests {
    /// The steady delivery rate at the simulator: deliveries between the 10th and the 90th
    /// percentile of their arrival times (the burst at the start and the tail are left out).
    static func midRunRate(_ stats: SimulatorStats) -> Double {
        let times = stats.messagesByOpenID.values.flatMap { $0.map(\.receivedAt.timeIntervalSince1970) }.sorted()
        let low = times.count / 10
        let high = times.count * 9 / 10
        return Double(high - low) / max(times[high] - times[low], 1e-9)
    }

    @Test("two instances hold the account's 100/s together (each its half of the partitions); nothing is lost or failed")
    func twoInstancesShareTheRate() async throws {
        let run = try await ChaosRun.start("limits (2 × share of 100/s)", events: 1_500, openids: 500)
        func config(_ name: String) throws -> String {
            var options = RunOptions(inFlight: 32, instanceID: name)
            options.limits = "{ rate: 100/s, burst: 20 }"
            return try run.configuration(options)
        }
        let first = try run.instance(try config("a"))
        let second = try run.instance(try config("b"))
        // Both in the group (one rebalance) before the load arrives, so the rate measured is the shared one.
        try await Task.sleep(for: .seconds(6))
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(90), sampling: [first, second])
        for child in [first, second] { child.signal(SIGTERM) }
        for child in [first, second] { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let rate = Self.midRunRate(run.pipeline.simulator.stats)
        let row = await run.finish()
        print("limits | configured 100/s | measured at the simulator \(String(format: "%.1f", rate))/s with 2 instances")
        #expect(row.lost == 0)
        #expect(row.byStatus["sent"] == run.events.count)
        #expect(row.duplicateDeliveries == 0)
        #expect(abs(rate - 100) <= 10, "measured \(rate)/s against 100/s")
    }
}
