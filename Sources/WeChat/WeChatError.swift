/// The WeChat module's one error: an API errcode with its errmsg, or a transport problem
/// (connect error, timeout, HTTP status, unparsable body) that carries no errcode.
public struct WeChatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// WeChat's errcode; nil for transport problems.
    public var errcode: Int?
    public var errmsg: String
    /// Set when WeChat answered with an HTTP status other than 200.
    public var httpStatus: Int?
    public var action: ErrorAction
    /// How far the request got: `.answered` for an errcode, else where the transport failed.
    public var progress: SendProgress

    /// An error WeChat reported in its JSON answer.
    public init(errcode: Int, errmsg: String) {
        self.errcode = errcode
        self.errmsg = errmsg
        self.httpStatus = nil
        self.action = ErrorAction.classify(errcode: errcode)
        self.progress = .answered
    }

    /// No usable answer from WeChat: worth a retry where `progress` says a retry cannot repeat a
    /// delivery (the sender decides that per message kind).
    public static func transport(_ problem: String, httpStatus: Int? = nil, progress: SendProgress) -> WeChatError {
        WeChatError(errcode: nil, errmsg: problem, httpStatus: httpStatus, action: .retry, progress: progress)
    }

    private init(errcode: Int?, errmsg: String, httpStatus: Int?, action: ErrorAction, progress: SendProgress) {
        self.errcode = errcode
        self.errmsg = errmsg
        self.httpStatus = httpStatus
        self.action = action
        self.progress = progress
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
