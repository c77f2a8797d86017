import AsyncHTTPClient
import Logging
import Metrics
import Waiting

/// Sends messages for a fixed set of accounts, one `TokenCache` per account.
///
/// Never throws: every outcome is a `SendResult` whose `action` says what to do next.
/// Secrets (appsecret, access_token) never appear in logs, errors or results.
public final class WeChatClient: Sendable {
    private struct Entry: Sendable {
        var account: WeChatAccount
        var tokens: TokenCache<ContinuousClock>
        /// Send latency per API path (`wxpush_wechat_request_duration_seconds`), made once.
        var latency: [String: Timer]
    }

    private let entries: [String: Entry]
    /// One per API host (accounts usually share WeChat's): how many sends go out at once.
    private let gates: [String: SendGate]
    private let transport: APITransport
    private let logger: Logger

    /// `requestTimeout` bounds the wait for a turn in the send window, and then the exchange (a
    /// connection, the answer); `maxConnections` bounds the send window of each API host.
    public init(
        httpClient: HTTPClient, accounts: [WeChatAccount], requestTimeout: Duration = .seconds(10), maxConnections: Int = 512,
        logger: Logger
    ) {
        let transport = APITransport(httpClient: httpClient, timeout: requestTimeout, logger: logger)
        var entries: [String: Entry] = [:]
        for account in accounts {
            let fetcher = HTTPTokenFetcher(account: account, transport: transport)
            let latency = Dictionary(
                uniqueKeysWithValues: MessageKind.allCases.map {
                    (
                        $0.path,
                        Timer(
                            label: "wxpush_wechat_request_duration_seconds", dimensions: [("account", account.name), ("api", $0.rawValue)])
                    )
                })
            entries[account.name] = Entry(
                account: account, tokens: TokenCache(fetcher: fetcher, clock: ContinuousClock()), latency: latency)
        }
        self.entries = entries
        gates = Dictionary(
            Set(accounts.map(\.apiBase)).map { ($0, SendGate(host: Self.host(of: $0), maximum: maxConnections)) },
            uniquingKeysWith: { first, _ in first })
        self.transport = transport
        self.logger = logger
    }

    public func hasAccount(_ name: String) -> Bool {
        entries[name] != nil
    }

    /// How often the account's token was fetched; 0 for an unknown account.
    public func tokenFetchCount(account: String) async -> Int {
        guard let entry = entries[account] else { return 0 }
        return await entry.tokens.fetchCount
    }

    /// Nil when the account has a valid token now (fetching one if needed); otherwise why not.
    public func tokenProblem(account: String) async -> String? {
        guard let entry = entries[account] else { return "unknown account" }
        do {
            _ = try await entry.tokens.token()
            return nil
        } catch {
            return "no access token (errcode \(error.errcode ?? SendResult.transportErrcode): \(error.errmsg))"
        }
    }

    /// `quota/get` for template/send: the account's real daily limit and today's use (account-wide).
    public func dailyQuota(account: String) async throws(WeChatError) -> DailyQuota {
        guard let entry = entries[account] else { throw WeChatError(errcode: SendResult.unknownAccountErrcode, errmsg: "unknown account") }
        let token = try await entry.tokens.token().value
        let answer = try await transport.call(
            post: Array(#"{"cgi_path":"/cgi-bin/message/template/send"}"#.utf8),
            url: entry.account.apiBase + "/cgi-bin/openapi/quota/get?access_token=" + queryEscaped(token),
            loggedPath: "/cgi-bin/openapi/quota/get", secrets: [token, entry.account.secret])
        if let errcode = answer.errcode, errcode != 0 { throw WeChatError(errcode: errcode, errmsg: answer.errmsg ?? "") }
        guard let quota = answer.quota else {
            throw WeChatError.transport("quota/get answer without quota", httpStatus: 200, progress: .answered)
        }
        return quota
    }

    /// The account's template library of `family`; a WeChat error (48001: the account may not
    /// call it) is thrown with its errcode.
    public func templateLibrary(_ family: TemplateLibrary.Family, account: String) async throws(WeChatError) -> TemplateLibrary {
        guard let entry = entries[account] else { throw WeChatError(errcode: SendResult.unknownAccountErrcode, errmsg: "unknown account") }
        let token = try await entry.tokens.token().value
        let answer = try await transport.call(
            post: nil, url: entry.account.apiBase + family.path + "?access_token=" + queryEscaped(token), loggedPath: family.path,
            secrets: [token, entry.account.secret])
        if let errcode = answer.errcode, errcode != 0 { throw WeChatError(errcode: errcode, errmsg: answer.errmsg ?? "") }
        guard let library = TemplateLibrary.parse(answer.fields, family: family) else {
            throw WeChatError.transport("\(family.path) answer without a template list", httpStatus: 200, progress: .answered)
        }
        return library
    }

    /// Sends once; on a token error invalidates that token, refreshes and retries exactly once.
    public func send(_ message: OutgoingMessage, account: String, trace: TraceHeader? = nil) async -> SendResult {
        guard let entry = entries[account] else {
            return SendResult(
                errcode: SendResult.unknownAccountErrcode,
                errmsg: "unknown account",
                action: .terminal
            )
        }
        let body = message.jsonBody()
        let first = await attempt(body, path: message.kind.path, entry: entry, trace: trace)
        guard first.result.action == .refreshToken, let staleToken = first.token, !Task.isCancelled else {
            return first.result
        }
        logger.debug(
            "WeChat rejected the access token; refreshing once",
            metadata: ["account": "\(account)", "errcode": "\(first.result.errcode)", "trace": "\(trace?.value ?? "-")"]
        )
        await entry.tokens.invalidate(ifCurrent: staleToken)
        var second = await attempt(body, path: message.kind.path, entry: entry, trace: trace).result
        second.tokenRefreshed = true
        return second
    }

    /// One token lookup and one POST; `token` is the token used, if one was obtained.
    private func attempt(
        _ body: [UInt8], path: String, entry: Entry, trace: TraceHeader?
    ) async -> (result: SendResult, token: TokenCache<ContinuousClock>.Token?) {
        let issued: TokenCache<ContinuousClock>.Token
        do {
            issued = try await entry.tokens.token()
        } catch {
            // However far the token request got, the send itself was never made.
            var result = SendResult(error)
            result.progress = .notWritten
            return (result, nil)
        }
        let token = issued.value
        let answer: APIAnswer
        // The turn in the window has its own bound: time spent queueing here never shortens the
        // exchange, or a slow server's queue would turn into sends written and then timed out.
        let gate = gates[entry.account.apiBase]
        if let gate, await !gate.enter(until: .now + transport.timeout) {
            let problem = Task.isCancelled ? "cancelled" : "no turn in the send window within \(transport.timeout)"
            return (SendResult(WeChatError.transport("\(problem) (\(path), not written)", progress: .notWritten)), issued)
        }
        let started = ContinuousClock.now
        var overloaded = true
        defer {
            let roundTrip = ContinuousClock.now - started
            gate?.leave(roundTrip: roundTrip, failed: overloaded)
            entry.latency[path]?.recordNanoseconds(roundTrip.nanoseconds)
        }
        do {
            answer = try await transport.call(
                post: body,
                url: entry.account.apiBase + path + "?access_token=" + queryEscaped(token),
                loggedPath: path,
                secrets: [token, entry.account.secret],
                trace: trace
            )
        } catch {
            // Refused unread with a 4xx, or cancelled here: nothing about load.
            overloaded = !Task.isCancelled && (error.httpStatus.map { $0 >= 500 || $0 == 429 } ?? true)
            return (SendResult(error), issued)
        }
        // -1 ("system busy") is WeChat saying it is overloaded, like a timeout.
        overloaded = answer.errcode == -1 || (answer.errcode == nil && answer.msgid == nil)
        guard answer.errcode != nil || answer.msgid != nil else {
            return (
                SendResult(WeChatError.transport("answer without errcode from \(path)", httpStatus: 200, progress: .writtenNoAnswer)),
                issued
            )
        }
        let errcode = answer.errcode ?? 0
        let result = SendResult(
            errcode: errcode,
            errmsg: answer.errmsg ?? (errcode == 0 ? "ok" : ""),
            msgid: answer.msgid,
            action: ErrorAction.classify(errcode: errcode)
        )
        return (result, issued)
    }
}

extension WeChatClient {
    /// `https://api.weixin.qq.com` → `api.weixin.qq.com` (a metric label; never a query or path).
    static func host(of apiBase: String) -> String {
        let afterScheme = apiBase.split(separator: "://", maxSplits: 1).last ?? Substring(apiBase)
        return String(afterScheme.prefix { $0 != "/" && $0 != "?" })
    }
}
