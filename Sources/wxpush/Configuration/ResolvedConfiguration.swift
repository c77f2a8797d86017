import Dispatcher
import Kafka
import WeChat

/// Configuration after defaults, environment overrides and secrets: what `run` needs.
struct ResolvedConfiguration: Sendable {
    var kafka: KafkaConfiguration
    var settings: DispatcherSettings
    var accounts: [WeChatAccount]
    /// Account name → its limits, for the accounts that have some.
    var limits: [String: AccountLimits]
    var wechatHTTP: WeChatHTTPSettings
    var rules: RulesFile
    var ruleBook: RuleBook
    var http: HTTPSettings
    /// Account name → how its callbacks are checked, for the accounts with a callback token.
    var callbacks: [String: CallbackAuthenticator]
    var logging = LogSetup.Settings()
}

/// The HTTP server of `wxpush run` (health, metrics, callbacks, intake); port 0: none.
struct HTTPSettings: Sendable {
    var host = "0.0.0.0"
    var port = 8080
    /// When set, `/metrics`, the probes and the operator routes are served here instead, apart
    /// from the public callback and intake on `port`.
    var adminPort: Int?
    /// The bearer token `POST /v1/notifications` requires; nil: the intake is off.
    var intakeToken: String?
    /// The bearer token of the operator endpoints (`/v1/accounts/…`) and, when set, of `/metrics`; nil: they are off.
    var adminToken: String?
    /// Open connections at once (below the process's file limit, so probes get through a flood).
    var maxConnections = 512
    /// The first request head must arrive within this of the connection, its body within
    /// `bodyTimeout` of the head. Half-open and trickling peers are cut off.
    var headerTimeout: Duration = .seconds(10)
    var bodyTimeout: Duration = .seconds(30)
    /// A keep-alive connection without a next request is closed after this.
    var idleTimeout: Duration = .seconds(60)
}

/// Every problem found in a configuration, each naming the field and the fix.
struct ConfigurationProblems: Error, CustomStringConvertible {
    let file: String
    let problems: [String]
    var description: String {
        "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
