import ArgumentParser

/// The `wxpush` command: Kafka events in, WeChat notifications out.
@main
struct WXPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wxpush",
        abstract: "Turns notification events on Kafka into WeChat messages, with one outcome event per request.",
        subcommands: [
            RunCommand.self, DemoCommand.self, SimulateCommand.self, DevKafkaCommand.self, CheckConfigCommand.self, TopicsCommand.self,
            ReportCommand.self,
            BenchCommand.self,
        ]
    )
}
