import Foundation
import WeChat

/// Resolves one configured WeChat account: secret from the config, an environment variable or a
/// file; token mode; API base.
struct AccountResolver {
    let environment: [String: String]
    let defaultAPIBase: String
    var requiresSecrets = true

    static func secretVariable(for name: String) -> String {
        "WXPUSH_SECRET_" + String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    func resolve(name: String, _ account: ConfigurationFile.Account, _ problems: inout [String]) -> WeChatAccount? {
        let field = "wechat.accounts.\(name)"
        let before = problems.count
        let appID = account.appid ?? ""
        if appID.isEmpty { problems.append("\(field).appid: missing; the account's AppID (wx…)") }
        let mode = tokenMode(account, field, &problems)
        let apiBase = account.apiBase ?? defaultAPIBase
        if account.apiBase != nil { checkURL(apiBase, "\(field).api_base", &problems) }
        let secret = resolveSecret(name: name, account, field, needed: requiresSecrets && mode != nil && !isCentral(mode), &problems)
        guard problems.count == before, let mode else { return nil }
        return WeChatAccount(name: name, appID: appID, secret: secret ?? "", apiBase: apiBase, tokenMode: mode)
    }

    private func isCentral(_ mode: WeChatAccount.TokenMode?) -> Bool {
        if case .central? = mode { return true }
        return false
    }

    private func tokenMode(_ account: ConfigurationFile.Account, _ field: String, _ problems: inout [String]) -> WeChatAccount.TokenMode? {
        switch account.tokenMode ?? "stable" {
        case "stable": return .stable
        case "classic": return .classic
        case "central":
            guard let url = account.tokenURL else {
                problems.append("\(field).token_url: missing; token_mode central needs the URL of your token service")
                return nil
            }
            checkURL(url, "\(field).token_url", &problems)
            return .central(url: url)
        case let other:
            problems.append("\(field).token_mode: \"\(other)\" is unknown; use stable (default), classic or central")
            return nil
        }
    }

    private func resolveSecret(
        name: String, _ account: ConfigurationFile.Account, _ field: String, needed: Bool, _ problems: inout [String]
    ) -> String? {
        let variable = account.secretEnv ?? Self.secretVariable(for: name)
        if let secret = environment[variable], !secret.isEmpty { return secret }
        if let path = account.secretFile {
            guard let secret = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
                !secret.isEmpty
            else {
                problems.append("\(field).secret_file: cannot read a secret from \(path)")
                return nil
            }
            return secret
        }
        if let secret = account.secret, !secret.isEmpty { return secret }
        if needed {
            problems.append("\(field): no AppSecret; set \(variable), or secret_file, or secret (not recommended)")
        }
        return nil
    }
}
