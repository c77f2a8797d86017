/// The outcome of one `WeChatClient.send`, never thrown: the caller decides by `action`.
public struct SendResult: Sendable, Equatable {
    /// WeChat's errcode; -2 when WeChat gave no usable answer, -3 for an unknown account.
    public var errcode: Int
    public var errmsg: String
    public var msgid: Int64?
    public var action: ErrorAction
    /// Set for transport-level failures that got an HTTP answer (e.g. 500).
    public var httpStatus: Int?
    /// True when a token error caused invalidate + refresh + one retry.
    public var tokenRefreshed: Bool
    /// How far the (last) request got; `.writtenNoAnswer` means WeChat may have delivered it.
    public var progress: SendProgress

    /// errcode for "no WeChat answer" (connect error, timeout, HTTP status, unparsable body).
    public static let transportErrcode = -2
    /// errcode for a send naming an account the client was not configured with.
    public static let unknownAccountErrcode = -3

    public init(
        errcode: Int,
        errmsg: String,
        msgid: Int64? = nil,
        action: ErrorAction,
        httpStatus: Int? = nil,
        tokenRefreshed: Bool = false,
        progress: SendProgress = .answered
    ) {
        self.errcode = errcode
        self.errmsg = errmsg
        self.msgid = msgid
        self.action = action
        self.httpStatus = httpStatus
        self.tokenRefreshed = tokenRefreshed
        self.progress = progress
    }

    /// The result of an error met before or instead of a WeChat answer.
    init(_ error: WeChatError, tokenRefreshed: Bool = false) {
        self.init(
            errcode: error.errcode ?? Self.transportErrcode,
            errmsg: error.errmsg,
            action: error.action,
            httpStatus: error.httpStatus,
            tokenRefreshed: tokenRefreshed,
            progress: error.progress
        )
    }
}
