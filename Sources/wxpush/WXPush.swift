import ArgumentParser
import Kafka

/// The `wxpush` command: Kafka events in, WeChat notifications out.
@main
struct WXPush: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wxpush",
        abstract: "Turns notification events on Kafka into WeChat messages, with one outcome event per request.",
        // Built at start: the librdkafka actually loaded (LD_LIBRARY_PATH may name another).
        version: "wxpush \(version) (librdkafka \(KafkaLibrary.version))",
        subcommands: [
            RunCommand.self, DemoCommand.self, SimulateCommand.self, DevKafkaCommand.self, CheckConfigCommand.self, TopicsCommand.self,
            ReportCommand.self, RenderCommand.self, DLQCommand.self, RecipientsCommand.self,
            BenchCommand.self,
        ]
    )

    static let version = "0.20.0"
}
