import JSON
import WeChat

/// A rule whose templates are parsed, ready to render events.
struct CompiledRule: Sendable {
    let rule: Rule
    let url: TemplateText?
    let page: TemplateText?
    let pagePath: TemplateText?
    let fields: [(key: String, text: TemplateText, field: FieldTemplate)]
    let quiet: QuietSpan?

    init(_ rule: Rule) throws {
        self.rule = rule
        url = try rule.url.map(TemplateText.init)
        page = try rule.page.map(TemplateText.init)
        pagePath = try rule.miniprogram.map { try TemplateText($0.pagepath) }
        quiet = try rule.quietHours.map { hours throws(QuietSpan.Problem) in try QuietSpan(hours) }
        fields = try rule.data.sorted { $0.key < $1.key }.map { (key: $0.key, text: try TemplateText($0.value.value), field: $0.value) }
    }

    /// `truncated` hears each field cut to its limit (`overflow: truncate`).
    func render(
        _ event: RequestEvent, clientMsgID: String, truncated: (String) -> Void = { _ in }
    ) -> Result<OutgoingMessage, Rejection> {
        let context: JSONValue = if case .object = event.data { event.data } else { .object([:]) }
        var data: [String: FieldValue] = [:]
        for (key, text, field) in fields {
            if let missing = text.missingVariable(in: event.data) {
                return .failure(Rejection(.missingVariable, "\(missing) (field \(key))"))
            }
            let rendered = text.render(context)
            switch checkLimits(key: key, value: rendered, policy: field.overflow ?? rule.overflow ?? .truncate) {
            case .success(let value):
                if value != rendered { truncated("\(key): \(rendered.count) characters cut to \(value.count)") }
                data[key] = FieldValue(value: value, color: field.color)
            case .failure(let rejection): return .failure(rejection)
            }
        }
        for (name, text) in [("url", url), ("page", page), ("miniprogram.pagepath", pagePath)] {
            if let text, let missing = text.missingVariable(in: event.data) {
                return .failure(Rejection(.missingVariable, "\(missing) (\(name))"))
            }
        }
        return .success(
            OutgoingMessage(
                kind: rule.kind, toUser: event.to, templateID: rule.templateID,
                url: url?.render(context),
                miniProgram: rule.miniprogram.map { MiniProgramLink(appID: $0.appid, pagePath: pagePath?.render(context) ?? $0.pagepath) },
                page: page?.render(context), miniProgramState: rule.miniprogramState, lang: rule.lang,
                clientMsgID: clientMsgID, data: data
            ))
    }

    /// Typed keywords (`thing1`, `time2`…) carry length-limited values, in subscribe messages and
    /// in category template messages alike; untyped ones (`keyword1`, `first`) are sent as rendered.
    private func checkLimits(key: String, value: String, policy: OverflowPolicy) -> Result<String, Rejection> {
        guard Self.isTyped(key, kind: rule.kind), let violation = FieldLimits.violation(key: key, value: value) else {
            return .success(value)
        }
        if policy == .truncate, let type = FieldLimits.type(ofKey: key), FieldLimits.isTruncatable(type) {
            let cut = FieldLimits.truncated(key: key, value: value)
            if FieldLimits.violation(key: key, value: cut) == nil { return .success(cut) }
        }
        return .failure(Rejection(.fieldInvalid, "\(violation)"))
    }

    /// A category template message's typed keywords are numbered (`thing1`); an old template's
    /// `time` or `name` is free text.
    static func isTyped(_ key: String, kind: MessageKind) -> Bool {
        kind != .template || key.last?.isNumber == true
    }
}
