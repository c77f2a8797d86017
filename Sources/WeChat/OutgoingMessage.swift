/// Opens a mini program page from a message (wins over `url` when both are set).
public struct MiniProgramLink: Sendable, Equatable, Codable {
    public var appID: String
    public var pagePath: String

    public init(appID: String, pagePath: String) {
        self.appID = appID
        self.pagePath = pagePath
    }

    enum CodingKeys: String, CodingKey {
        case appID = "appid"
        case pagePath = "pagepath"
    }
}

/// One `data` entry of a message.
public struct FieldValue: Sendable, Equatable {
    public var value: String
    /// Template messages only, e.g. "#173177".
    public var color: String?

    public init(value: String, color: String? = nil) {
        self.value = value
        self.color = color
    }
}

/// A message ready for one of the WeChat send APIs.
public struct OutgoingMessage: Sendable, Equatable {
    public var kind: MessageKind
    public var toUser: String
    public var templateID: String
    /// Template messages: a web page to open.
    public var url: String?
    public var miniProgram: MiniProgramLink?
    /// Subscribe messages: a URL (bizsend) or an in-app path (mini program subscribe).
    public var page: String?
    /// Mini program subscribe: developer, trial or formal.
    public var miniProgramState: String?
    /// Mini program subscribe: zh_CN, en_US, zh_HK or zh_TW.
    public var lang: String?
    /// WeChat's anti-duplicate id; see `ClientMessageID`.
    public var clientMsgID: String
    public var data: [String: FieldValue]

    public init(
        kind: MessageKind,
        toUser: String,
        templateID: String,
        url: String? = nil,
        miniProgram: MiniProgramLink? = nil,
        page: String? = nil,
        miniProgramState: String? = nil,
        lang: String? = nil,
        clientMsgID: String,
        data: [String: FieldValue]
    ) {
        self.kind = kind
        self.toUser = toUser
        self.templateID = templateID
        self.url = url
        self.miniProgram = miniProgram
        self.page = page
        self.miniProgramState = miniProgramState
        self.lang = lang
        self.clientMsgID = clientMsgID
        self.data = data
    }
}
