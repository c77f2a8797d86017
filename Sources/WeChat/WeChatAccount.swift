/// One WeChat Official Account (or mini program) that wxpush sends for.
public struct WeChatAccount: Sendable, Equatable {
    /// Where access tokens come from.
    public enum TokenMode: Sendable, Equatable {
        /// `POST /cgi-bin/stable_token`: every instance gets the same token, none evicts another.
        case stable
        /// `GET /cgi-bin/token`: each fetch evicts the previous token after a short overlap.
        case classic
        /// A central token service (中控服务器) answering `{"access_token","expires_in"}` at `url`.
        case central(url: String)
    }

    public var name: String
    public var appID: String
    public var secret: String
    /// Scheme and host, no trailing slash: "https://api.weixin.qq.com" or "http://127.0.0.1:PORT".
    public var apiBase: String
    public var tokenMode: TokenMode

    public init(name: String, appID: String, secret: String, apiBase: String, tokenMode: TokenMode = .stable) {
        self.name = name
        self.appID = appID
        self.secret = secret
        self.apiBase = apiBase
        self.tokenMode = tokenMode
    }
}

// The secret must never reach a log line, even through string interpolation of the whole account.
extension WeChatAccount: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "WeChatAccount(name: \(name), appID: \(appID), secret: <redacted>, apiBase: \(apiBase), tokenMode: \(tokenMode))"
    }

    public var debugDescription: String { description }
}
