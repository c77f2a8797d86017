import WeChat

/// Whether a send that got no usable answer may be made again: never when the first may have
/// reached the user and WeChat would deliver the second too.
///
/// | kind | not written | written, no answer |
/// |---|---|---|
/// | `template` | retry | retry within WeChat's `client_msg_id` window (10 min) of the first write, then fate unknown |
/// | `bizsend`, `subscribe` | retry | fate unknown: WeChat de-duplicates neither |
public enum Resend {
    public enum Decision: Sendable, Equatable {
        case retry
        /// WeChat may have delivered it: end the request with `fate_unknown` rather than risk a
        /// second delivery.
        case fateUnknown
    }

    /// WeChat keeps (openid, client_msg_id) for 10 minutes; a margin covers the time between an
    /// attempt's start (what is measured) and WeChat's receipt of it.
    public static let deduplicationWindow: Duration = .seconds(540)

    /// `sinceFirstWrite`: from the start of the first attempt that may have been written.
    public static func decide(kind: MessageKind, progress: SendProgress, sinceFirstWrite: Duration?) -> Decision {
        guard progress == .writtenNoAnswer || sinceFirstWrite != nil else { return .retry }
        guard kind == .template else { return progress == .writtenNoAnswer ? .fateUnknown : .retry }
        return (sinceFirstWrite ?? .zero) < deduplicationWindow ? .retry : .fateUnknown
    }
}
