import Foundation
import Metrics

/// Fetches access tokens over HTTP in the way the account's `TokenMode` says.
struct HTTPTokenFetcher: TokenFetching {
    let account: WeChatAccount
    let transport: APITransport

    /// Logs a failure here, once per fetch, rather than once per send that was waiting for it.
    func fetchToken(forceRefresh: Bool) async throws(WeChatError) -> (token: String, expiresIn: Duration) {
        let mode =
            switch account.tokenMode {
            case .stable: "stable"
            case .classic: "classic"
            case .central: "central"
            }
        do {
            let fetched = try await fetch(forceRefresh: forceRefresh)
            Counter(label: "wxpush_token_fetches_total", dimensions: [("account", account.name), ("mode", mode), ("result", "ok")])
                .increment()
            return fetched
        } catch {
            Counter(label: "wxpush_token_fetches_total", dimensions: [("account", account.name), ("mode", mode), ("result", "failed")])
                .increment()
            transport.logger.warning(
                "WeChat token fetch failed",
                metadata: ["account": "\(account.name)", "errcode": "\(error.errcode ?? -2)", "error": "\(error)"]
            )
            throw error
        }
    }

    private func fetch(forceRefresh: Bool) async throws(WeChatError) -> (token: String, expiresIn: Duration) {
        let answer: APIAnswer
        switch account.tokenMode {
        case .stable:
            answer = try await transport.call(
                post: stableTokenBody(forceRefresh: forceRefresh),
                url: account.apiBase + "/cgi-bin/stable_token",
                loggedPath: "/cgi-bin/stable_token",
                secrets: [account.secret]
            )
        case .classic:
            let query =
                "grant_type=client_credential&appid=\(queryEscaped(account.appID))"
                + "&secret=\(queryEscaped(account.secret))"
            answer = try await transport.call(
                post: nil,
                url: account.apiBase + "/cgi-bin/token?" + query,
                loggedPath: "/cgi-bin/token",
                secrets: [account.secret, queryEscaped(account.secret)]
            )
        case .central(let url):
            // The central service's URL is configuration, but its query may carry a credential too.
            let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            answer = try await transport.call(post: nil, url: url, loggedPath: path, secrets: [account.secret])
        }
        if let errcode = answer.errcode, errcode != 0 {
            throw WeChatError(errcode: errcode, errmsg: answer.errmsg ?? "")
        }
        guard let token = answer.access_token, !token.isEmpty, let expiresIn = answer.expires_in, expiresIn > 0
        else {
            throw WeChatError.transport("token answer without access_token or expires_in", httpStatus: 200, progress: .answered)
        }
        return (token, .seconds(expiresIn))
    }

    private func stableTokenBody(forceRefresh: Bool) -> [UInt8] {
        let body = StableTokenRequest(appid: account.appID, secret: account.secret, force_refresh: forceRefresh)
        return (try? Array(JSONEncoder().encode(body))) ?? []
    }
}

private struct StableTokenRequest: Encodable {
    var grant_type = "client_credential"
    var appid: String
    var secret: String
    var force_refresh: Bool
}
