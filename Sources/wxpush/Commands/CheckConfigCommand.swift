import ArgumentParser
import Dispatcher
import Foundation
import Logging
import WeChat

/// `wxpush check-config --config FILE [--online]`: every problem, or OK; exit 1 on problems.
/// `--online` also reads each account's template libraries from WeChat and checks every rule
/// against them (`TemplateCheck`).
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validates the configuration and the rules; lists every problem with the field and the fix."
    )

    @Option(help: "The configuration file (default: $WXPUSH_CONFIG, else config/wxpush.yaml).")
    var config: String = ConfigurationLoader.defaultPath

    @Flag(help: "Also read each account's template libraries from WeChat and check every rule against them.")
    var online = false

    func run() async throws {
        let resolved = try Self.loadOrExplain(config)
        print(
            "\(config): OK — brokers \(resolved.kafka.bootstrapServers), group \(resolved.settings.groupID), "
                + "\(resolved.accounts.count) account(s) \(resolved.accounts.map(\.name)), rules \(resolved.ruleBook.types)"
        )
        guard online else { return }
        let problems = await Self.checkTemplates(resolved)
        for problem in problems { print("problem: \(problem)") }
        if !problems.isEmpty {
            print("\(problems.count) template problem\(problems.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        print("templates: OK")
    }

    /// Each account's libraries, read and printed, and every rule's problem against them.
    static func checkTemplates(_ resolved: ResolvedConfiguration) async -> [String] {
        var logger = Logger(label: "wxpush.check-config")
        logger.logLevel = .error
        let httpClient = resolved.wechatHTTP.makeClient()
        let wechat = WeChatClient(
            httpClient: httpClient, accounts: resolved.accounts, requestTimeout: resolved.wechatHTTP.exchangeTimeout, logger: logger)
        let reads = await TemplateRefresh.read(wechat, accounts: resolved.accounts.map(\.name))
        for (account, families) in reads.libraries.sorted(by: { $0.key < $1.key }) {
            for (family, library) in families.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                print("account \(account): \(family.rawValue) library, \(library.templates.count) templates")
            }
        }
        for (account, family, error) in reads.unread {
            print(
                "note: account \(account): the \(family.rawValue) library was not read (\(TemplateRefresh.describe(error))); its rules are not checked"
            )
        }
        try? await httpClient.shutdown()
        return TemplateCheck.problems(rules: resolved.ruleBook, libraries: reads.libraries)
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
