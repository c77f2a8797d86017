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
            var reported: [String: Set<String>] = [:]
            var unreadable: [String: Set<String>] = [:]
            while !Task.isCancelled {
                for account in accounts {
                    var libraries: [TemplateLibrary.Family: TemplateLibrary] = [:]
                    for (family, read) in await Self.read(wechat, account: account) {
                        switch read {
                        case .success(let library):
                            libraries[family] = library
                            catalog.update(library, account: account, at: Date())
                        case .failure(let error):
                            catalog.readFailed(family, account: account)
                            let problem = Self.describe(error)
                            guard unreadable[account, default: []].insert("\(family): \(problem)").inserted else { continue }
                            logger.info(
                                "account \(account): the \(family.rawValue) library was not read (\(problem)); its templates are checked by sending"
                            )
                        }
                    }
                    let problems = TemplateCheck.problems(rules: rules, libraries: libraries, account: account)
                    for problem in problems where reported[account, default: []].insert(problem).inserted {
                        logger.warning("template check: \(problem)")
                    }
                }
                guard (try? await Task.sleep(for: interval)) != nil else { return }
            }
        }
    }

    /// Both libraries of `account`, each read or why not.
    public static func read(
        _ wechat: WeChatClient, account: String
    ) async -> [(TemplateLibrary.Family, Result<TemplateLibrary, WeChatError>)] {
        var results: [(TemplateLibrary.Family, Result<TemplateLibrary, WeChatError>)] = []
        for family in TemplateLibrary.Family.allCases {
            do throws(WeChatError) {
                results.append((family, .success(try await wechat.templateLibrary(family, account: account))))
            } catch {
                results.append((family, .failure(error)))
            }
        }
        return results
    }

    /// `errcode 48001: api unauthorized`, or the transport's failure.
    public static func describe(_ error: WeChatError) -> String {
        "errcode \(error.errcode ?? SendResult.transportErrcode): \(error.errmsg)"
    }
}
