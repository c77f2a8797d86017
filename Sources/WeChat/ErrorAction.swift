/// Which quota WeChat says is used up.
public enum QuotaWindow: Sendable, Equatable {
    /// 45009: stop sending for the account until the daily reset.
    case daily
    /// 45011: wait for the next minute.
    case minute
}

/// What a sender does with an errcode, per the table in wechat-api.md.
public enum ErrorAction: Sendable, Equatable {
    /// 0.
    case success
    /// -1 (system busy) and every transport failure; `client_msg_id` makes the retry safe.
    case retry
    /// 40001, 40014, 42001: invalidate the token if it is still the cached one, refresh, retry once.
    case refreshToken
    /// 45009 (daily) and 45011 (per minute).
    case waitForQuota(QuotaWindow)
    /// Bad openid, unfollowed, refused, bad template, bad data, not authorised, IP whitelist,
    /// and any errcode this table does not know: retrying would not help.
    case terminal
    /// 40013, 40125: bad appid or secret when fetching a token; pause the account and alert.
    case accountMisconfigured

    public static func classify(errcode: Int) -> ErrorAction {
        switch errcode {
        case 0: .success
        case -1: .retry
        case 40001, 40014, 42001: .refreshToken
        case 45009: .waitForQuota(.daily)
        case 45011: .waitForQuota(.minute)
        case 40013, 40125: .accountMisconfigured
        default: .terminal
        }
    }

    /// Terminal errcodes that are about this one recipient: a bad or unfollowed openid, a refusal,
    /// bad data. Every other terminal errcode (a bad template id, an API not authorised, the IP
    /// whitelist, one this table does not know) is the operator's to fix, and worth a DLQ copy.
    public static let recipientErrcodes: Set<Int> = [40003, 43004, 43101, 47003]

    public static func needsOperator(errcode: Int) -> Bool {
        classify(errcode: errcode) == .terminal && !recipientErrcodes.contains(errcode)
    }
}
