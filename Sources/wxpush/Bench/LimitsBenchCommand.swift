import ArgumentParser
import Foundation
import Harness
import Logging
import Simulator

/// `wxpush bench limits`: an account limit held by 1, 2, 3… instances in one group, configured
/// against measured at the simulator; then the budget a skewed partition load leaves unused.
struct LimitsBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "limits",
        abstract: "Configured vs measured aggregate send rate for 1…N `wxpush run` instances, and the budget wasted with a skewed load."
    )

    @Option(help: "The default account's rate (sends per second, across all instances).")
    var rate: Int = 100

    @Option(help: "Largest number of instances (each of 1…N is measured).")
    var instances: Int = 3

    @Option(help: "Seconds of demand per run at the configured rate (events = rate × seconds).")
    var seconds: Int = 15

    @Flag(help: "The simulator answers 45011 above the rate (default: it only counts, so only wxpush's own accounting holds the limit).")
    var enforce = false

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let logger = Logger(label: "wxpush.bench")
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let events = rate * seconds
        let limits = "{ rate: \(rate)/s, burst: \(max(1, rate / 5)) }"
        print("bench limits: rate \(rate)/s for the account, \(events) events per run over 6 partitions, all produced at once")
        print("  instances started alike (no instance_id), as a user starts them")
        // Enforcing, the simulator holds the same rate (one second of it at once): a 45011 there
        // means the limit was overrun by more than a second's worth.
        let wechat = enforce ? RateLimit(perSecond: Double(rate), burst: Double(rate)) : nil
        print(
            enforce
                ? "  the simulator answers 45011 above \(rate)/s (burst \(rate))" : "  the simulator counts sends and never answers 45011")
        // The cost of sending at all: one instance, no limit, the same events.
        let unlimited = try await LimitRun(instances: 1, events: events, openids: events / 3, limits: nil)
            .execute(executable: executable, logger: logger)
        print(
            String(
                format: "1 instance, no limit (baseline): %.0f/s, CPU %.0f ms per 1,000 sent", unlimited.deliveredPerSecond,
                unlimited.cpuMillisecondsPerThousand))
        // The cost of sending at the rate without limiting anything: the load arrives at the
        // rate, so each send wakes the pipeline on its own instead of sharing wake-ups in bulk.
        var trickleRun = LimitRun(instances: 1, events: events, openids: events / 3, limits: nil)
        trickleRun.producedPerSecond = rate
        let trickle = try await trickleRun.execute(executable: executable, logger: logger)
        print(
            String(
                format:
                    "1 instance, no limit, load arriving at %d/s (trickle baseline): %.0f/s, CPU %.0f ms per 1,000 sent (%.2f× unlimited)",
                rate, trickle.deliveredPerSecond, trickle.cpuMillisecondsPerThousand,
                trickle.cpuMillisecondsPerThousand / max(0.001, unlimited.cpuMillisecondsPerThousand)))
        for count in 1...max(1, instances) {
            var run = LimitRun(instances: count, events: events, openids: events / 3, limits: limits)
            run.simulatorRate = wechat
            let result = try await run.execute(executable: executable, logger: logger)
            print(line("\(count) instance\(count == 1 ? " " : "s"), even load", result, baseline: unlimited, trickle: trickle))
        }
        // All demand on two partitions: by partitions alone, whoever owns them holds 2/6 of the
        // budget and the rest idles; with the demand exchange the budget follows the demand.
        for exchange in [false, true] {
            var skewedRun = LimitRun(
                instances: max(1, instances), events: events, openids: events / 3, limits: limits, loadedPartitions: [0, 1])
            skewedRun.simulatorRate = wechat
            skewedRun.demandExchange = exchange
            let skewed = try await skewedRun.execute(executable: executable, logger: logger)
            let shares = exchange ? "shares by demand" : "shares by partitions"
            print(
                line("\(max(1, instances)) instances, load on 2 of 6 partitions, \(shares)", skewed, baseline: unlimited, trickle: trickle))
            print(String(format: "  budget wasted: %.0f%%", 100 * max(0, 1 - skewed.deliveredPerSecond / Double(rate))))
        }
    }

    private func line(_ label: String, _ result: LimitRun.Result, baseline: LimitRun.Result, trickle: LimitRun.Result) -> String {
        let errors = result.errorsByCode.isEmpty ? "none" : result.errorsByCode.map { "\($0.key) × \($0.value)" }.joined(separator: ", ")
        return String(
            format:
                "%@: measured %.1f/s against %d/s configured (%.2f×), outcomes %@, simulator errors %@, %.1f s, CPU %.0f ms per 1,000 sent (%.2f× unlimited, %.2f× trickle)",
            label, result.deliveredPerSecond, rate, result.deliveredPerSecond / Double(rate),
            result.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), errors, result.seconds,
            result.cpuMillisecondsPerThousand, result.cpuMillisecondsPerThousand / max(0.001, baseline.cpuMillisecondsPerThousand),
            result.cpuMillisecondsPerThousand / max(0.001, trickle.cpuMillisecondsPerThousand))
    }
}
