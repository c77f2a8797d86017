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
                var libraries: [String: [TemplateLibrary.Family: TemplateLibrary]] = [:]
                for account in accounts {
                    for (family, read) in await Self.read(wechat, account: account) {
                        switch read {
                        case .success(let library):
                            libraries[account, default: [:]][family] = library
                            catalog.update(library, account: account, at: Date())
                        case .failure(let error):
                            catalog.readFailed(family, account: account)
                            let problem = Self.describe(error)
                            guard unreadable.insert("\(account) \(family): \(problem)").inserted else { continue }
                            logger.info(
                                "account \(account): the \(family.rawValue) library was not read (\(problem)); its templates are checked by sending"
                            )
                        }
                    }
                }
                for problem in TemplateCheck.problems(rules: rules, libraries: libraries) where reported.insert(problem).inserted {
                    logger.warning("template check: \(problem)")
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
