import Foundation
import Logging
import ServiceLifecycle
import WeChat

/// Reads every account's template libraries into the `TemplateCatalog` at start and every
/// `interval`, and logs each rule they show broken (`TemplateCheck`) when it first shows. A
/// library that cannot be read leaves its last read in force.
public struct TemplateRefresh: Service {
    let wechat: WeChatClient
    let accounts: [String]
    let rules: RuleBook
    let catalog: TemplateCatalog
    let interval: Duration
    let logger: Logger

    public init(wechat: WeChatClient, accounts: [String], rules: RuleBook, catalog: TemplateCatalog, interval: Duration, logger: Logger) {
        self.wechat = wechat
        self.accounts = accounts
        self.rules = rules
        self.catalog = catalog
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var reported: Set<String> = []
            var unreadable: Set<String> = []
            while !Task.isCancelled {
                let reads = await Self.read(wechat, accounts: accounts)
                for (account, families) in reads.libraries {
                    for library in families.values { catalog.update(library, account: account, at: Date()) }
                }
                for (account, family, error) in reads.unread {
                    catalog.readFailed(family, account: account)
                    let problem = Self.describe(error)
                    guard unreadable.insert("\(account) \(family): \(problem)").inserted else { continue }
                    logger.info(
                        "account \(account): the \(family.rawValue) library was not read (\(problem)); its templates are checked by sending"
                    )
                }
                for problem in TemplateCheck.problems(rules: rules, libraries: reads.libraries) where reported.insert(problem).inserted {
                    logger.warning("template check: \(problem)")
                }
                guard (try? await Task.sleep(for: interval)) != nil else { return }
            }
        }
    }

    /// Every account's libraries: those read (account → family → library), and why the others were not.
    public struct Reads: Sendable {
        public var libraries: [String: [TemplateLibrary.Family: TemplateLibrary]] = [:]
        public var unread: [(account: String, family: TemplateLibrary.Family, error: WeChatError)] = []
    }

    /// Both libraries of each of `accounts`.
    public static func read(_ wechat: WeChatClient, accounts: [String]) async -> Reads {
        var reads = Reads()
        for account in accounts {
            for family in TemplateLibrary.Family.allCases {
                do throws(WeChatError) {
                    reads.libraries[account, default: [:]][family] = try await wechat.templateLibrary(family, account: account)
                } catch {
                    reads.unread.append((account, family, error))
                }
            }
        }
        return reads
    }

    /// `errcode 48001: api unauthorized`, or the transport's failure.
    public static func describe(_ error: WeChatError) -> String {
        "errcode \(error.errcode ?? SendResult.transportErrcode): \(error.errmsg)"
    }
}
