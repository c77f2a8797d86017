import ArgumentParser
import Foundation
import Harness
import Logging

/// `wxpush bench defer`: many requests parked by `not_before` through the delay topics, and
/// what that costs the same child's memory and its immediate traffic, against the same batch
/// with nothing parked, in one run.
struct DeferBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "defer",
        abstract: "Parked requests (not_before) through the delay topics: memory, immediate traffic meanwhile, none early."
    )

    @Option(help: "Requests parked with one not_before.")
    var parked = 100_000

    @Option(help: "How far ahead their not_before is, e.g. 60s (the child must move them all to the delay topics before it).")
    var wait = "60s"

    @Option(help: "Immediate requests, sent before parking (the baseline) and while parked.")
    var immediate = 5_000

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        guard let wait = DurationText.parse(wait) else { throw ValidationError("--wait \(wait): write it like 60s") }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        print("bench defer: \(parked) requests with not_before \(wait) ahead, \(immediate) immediate ones before and while they wait")
        print("  one `wxpush run` child, default delay tiers, 24 partitions, simulated WeChat latency 20 ms")
        let result = try await DeferRun(parked: parked, wait: wait, immediate: immediate)
            .execute(executable: executable, rulesYAML: BenchRules.yaml, logger: Logger(label: "wxpush.bench"))
        print(
            String(
                format: "parking: all %d moved to the delay topics in %.1f s (%.0f/s)", parked, result.parkingSeconds,
                Double(parked) / result.parkingSeconds))
        print(
            String(
                format: "immediate %d: %.2f s with nothing parked, %.2f s while %d are parked (%.2f×)", immediate, result.immediateAlone,
                result.immediateWhileParked, parked, result.immediateWhileParked / result.immediateAlone))
        print(
            String(
                format: "child peak RSS: %.0f MiB before parking, %.0f MiB while parked (+%.0f MiB for %d parked), %.0f MiB at the end",
                result.peakBefore, result.peakWhileParked, result.peakWhileParked - result.peakBefore, parked, result.peakAtEnd))
        print(
            String(
                format:
                    "release: %d of %d delivered, %d before their not_before, the last %.1f s after it; %lld delay-topic offsets, transaction markers included (%.1f per parked request); outcomes %@",
                result.delivered, parked, result.early, result.drainSeconds, result.delayRecords,
                Double(result.delayRecords) / Double(max(parked, 1)),
                result.byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
    }
}
