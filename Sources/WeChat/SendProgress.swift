/// How far a send got before it failed: what decides whether making it again could reach the
/// user twice.
public enum SendProgress: Sendable, Equatable {
    /// Never written whole to a connection (no connection, connect timeout, the pool's wait, the
    /// token fetch failed), or refused unread (HTTP 503, 429): WeChat has nothing to act on.
    case notWritten
    /// Written, then no usable answer (a response timeout, the connection closed, a gateway's 5xx,
    /// an unparsable body): WeChat may have delivered it or not. Its fate is unknown.
    case writtenNoAnswer
    /// WeChat answered with an errcode: its errcode says what happened.
    case answered

    /// The progress of a request that got this HTTP status instead of a 200 with WeChat's JSON:
    /// 503 (unavailable) and 429 (too many) refuse a request unread; any other 5xx may come from
    /// a gateway whose upstream acted on it; other statuses (4xx) refuse it.
    public static func of(httpStatus: Int) -> SendProgress {
        switch httpStatus {
        case 429, 503: .notWritten
        case 500...599: .writtenNoAnswer
        default: .notWritten
        }
    }
}
