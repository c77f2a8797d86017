import ArgumentParser

/// `wxpush bench …`: the benchmarks. Performance is measured here, never asserted in tests.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks, each against a baseline measured in the same run.",
        subcommands: [KafkaBenchCommand.self, DispatchBenchCommand.self, LimitsBenchCommand.self, DeferBenchCommand.self]
    )
}
