/// The WeChat module's one error: an API errcode with its errmsg, or a transport problem
/// (connect error, timeout, HTTP status, unparsable body) that carries no errcode.
public struct WeChatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// WeChat's errcode; nil for transport problems.
    public var errcode: Int?
    public var errmsg: String
    /// Set when WeChat answered with an HTTP status other than 200.
    public var httpStatus: Int?
    public var action: ErrorAction

    /// An error WeChat reported in its JSON answer.
    public init(errcode: Int, errmsg: String) {
        self.errcode = errcode
        self.errmsg = errmsg
        self.httpStatus = nil
        self.action = ErrorAction.classify(errcode: errcode)
    }

    /// No usable answer from WeChat; always worth a retry.
    public static func transport(_ problem: String, httpStatus: Int? = nil) -> WeChatError {
        WeChatError(errcode: nil, errmsg: problem, httpStatus: httpStatus, action: .retry)
    }

    private init(errcode: Int?, errmsg: String, httpStatus: Int?, action: ErrorAction) {
        self.errcode = errcode
        self.errmsg = errmsg
        self.httpStatus = httpStatus
        self.action = action
    }

    // Built only from errcode, errmsg and status: the token and secret are never part of an error.
    public var description: String {
        if let errcode {
            return "WeChat errcode \(errcode): \(errmsg)"
        }
        if let httpStatus {
            return "WeChat transport error (HTTP \(httpStatus)): \(errmsg)"
        }
        return "WeChat transport error: \(errmsg)"
    }
}
