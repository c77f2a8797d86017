/// The three WeChat send APIs wxpush can use; they share the access token and the response shape.
public enum MessageKind: String, Sendable, Codable, CaseIterable {
    /// Official account template message.
    case template
    /// Official account subscribe message.
    case bizsend
    /// Mini program subscribe message.
    case subscribe

    /// The API path, without the `access_token` query.
    public var path: String {
        switch self {
        case .template: "/cgi-bin/message/template/send"
        case .bizsend: "/cgi-bin/message/subscribe/bizsend"
        case .subscribe: "/cgi-bin/message/subscribe/send"
        }
    }

    /// Subscribe kinds have typed, length-limited `data` values (see `FieldLimits`).
    public var hasTypedFields: Bool {
        self != .template
    }
}
