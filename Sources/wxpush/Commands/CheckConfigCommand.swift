import ArgumentParser
import Foundation

/// `wxpush check-config --config FILE`: every problem, or OK; exit 1 on problems.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validates the configuration and the rules; lists every problem with the field and the fix."
    )

    @Option(help: "The configuration file (default: $WXPUSH_CONFIG, else config/wxpush.yaml).")
    var config: String = ConfigurationLoader.defaultPath

    func run() async throws {
        let resolved = try Self.loadOrExplain(config)
        print(
            "\(config): OK — brokers \(resolved.kafka.bootstrapServers), group \(resolved.settings.groupID), "
                + "\(resolved.accounts.count) account(s) \(resolved.accounts.map(\.name)), rules \(resolved.ruleBook.types)"
        )
    }

    /// The resolved configuration, or every problem on stderr and exit code 1. Commands that
    /// never call WeChat pass `requiresSecrets: false`.
    static func loadOrExplain(_ path: String, requiresSecrets: Bool = true) throws -> ResolvedConfiguration {
        var loader = ConfigurationLoader()
        loader.requiresSecrets = requiresSecrets
        do {
            return try loader.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
