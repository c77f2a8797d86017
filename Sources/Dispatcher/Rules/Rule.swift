import WeChat

/// One entry of the rules file: how an event `type` becomes a WeChat message.
public struct Rule: Sendable, Equatable, Decodable {
    public var kind: MessageKind
    public var templateID: String
    public var url: String?
    public var miniprogram: MiniProgramTemplate?
    public var page: String?
    public var miniprogramState: String?
    public var lang: String?
    public var data: [String: FieldTemplate]
    /// What to do with a subscribe field over WeChat's limit, unless the field says otherwise.
    public var overflow: OverflowPolicy?
    /// At most so many messages of this rule per recipient and span.
    public var throttle: ThrottleRule?
    /// When its messages must not reach the recipient (they wait for the span's end).
    public var quietHours: QuietHours?

    public init(
        kind: MessageKind, templateID: String, url: String? = nil, miniprogram: MiniProgramTemplate? = nil, page: String? = nil,
        miniprogramState: String? = nil, lang: String? = nil, data: [String: FieldTemplate], overflow: OverflowPolicy? = nil,
        throttle: ThrottleRule? = nil, quietHours: QuietHours? = nil
    ) {
        self.quietHours = quietHours
        self.throttle = throttle
        self.kind = kind
        self.templateID = templateID
        self.url = url
        self.miniprogram = miniprogram
        self.page = page
        self.miniprogramState = miniprogramState
        self.lang = lang
        self.data = data
        self.overflow = overflow
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, url, miniprogram, page, lang, data, overflow, throttle
        case templateID = "template_id"
        case miniprogramState = "miniprogram_state"
        case quietHours = "quiet_hours"
    }
}

public struct MiniProgramTemplate: Sendable, Equatable, Decodable {
    public var appid: String
    public var pagepath: String

    public enum CodingKeys: String, CodingKey, CaseIterable { case appid, pagepath }

    public init(appid: String, pagepath: String) {
        self.appid = appid
        self.pagepath = pagepath
    }
}

/// `truncate` cuts a too-long value with an ellipsis; `reject` rejects the event. Formatted types
/// (number, amount, phone_number, car_number, time, date) are never truncated.
public enum OverflowPolicy: String, Sendable, Equatable, Decodable { case truncate, reject }

/// A data field: a Mustache template string, or `{value, color, overflow}`.
public struct FieldTemplate: Sendable, Equatable, Decodable {
    public var value: String
    public var color: String?
    public var overflow: OverflowPolicy?

    public init(value: String, color: String? = nil, overflow: OverflowPolicy? = nil) {
        self.value = value
        self.color = color
        self.overflow = overflow
    }

    public init(from decoder: any Decoder) throws {
        if let value = try? decoder.singleValueContainer().decode(String.self) {
            self.init(value: value)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            value: try container.decode(String.self, forKey: .value),
            color: try container.decodeIfPresent(String.self, forKey: .color),
            overflow: try container.decodeIfPresent(OverflowPolicy.self, forKey: .overflow)
        )
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case value, color, overflow }
}

/// The rules file: `rules: { type: Rule }`.
public struct RulesFile: Sendable, Equatable, Decodable {
    public var rules: [String: Rule]

    public init(rules: [String: Rule]) { self.rules = rules }
}
