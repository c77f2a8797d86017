import Foundation
import JSON
import WeChat

/// A notification request from the requests topic (docs/contract.md, `"v": 1`). A structured-mode
/// CloudEvent (`specversion` "1.0") is one too: its `id`, `type` and `data` are the same fields,
/// `subject` stands in for a missing `to`, and the extensions `expiresat` and `notbefore` for
/// `expires_at` and `not_before`.
public struct RequestEvent: Sendable, Equatable {
    public var id: String
    public var type: String?
    public var message: RawMessage?
    public var app: String
    public var to: String
    public var data: JSONValue
    public var expiresAt: Date?
    /// Not to reach the recipient before this time (`not_before`; CloudEvents `notbefore`).
    public var notBefore: Date?

    public init(
        id: String, type: String?, message: RawMessage?, app: String, to: String, data: JSONValue, expiresAt: Date?,
        notBefore: Date? = nil
    ) {
        self.notBefore = notBefore
        self.id = id
        self.type = type
        self.message = message
        self.app = app
        self.to = to
        self.data = data
        self.expiresAt = expiresAt
    }
}

/// A producer-rendered WeChat body, sent as given.
public struct RawMessage: Sendable, Equatable {
    public var kind: MessageKind
    public var templateID: String
    public var url: String?
    public var miniprogram: MiniProgramLink?
    public var page: String?
    public var miniprogramState: String?
    public var lang: String?
    public var data: [String: RawField]
}

/// A data field of a raw message: `{"value": "…", "color": "#…"}` or just a string.
public struct RawField: Sendable, Equatable {
    public var value: String
    public var color: String?
}

/// Why bytes on the requests topic are not a request event; `id` is set when one could be read.
public struct InvalidEvent: Error, Sendable, Equatable {
    public var id: String?
    public var problem: String
}

extension RequestEvent {
    /// Decodes and validates an event in one pass over the bytes; every failure names the field.
    public static func decode(_ bytes: [UInt8]) -> Result<RequestEvent, InvalidEvent> {
        let object: [String: JSONValue]
        do {
            guard case .object(let fields) = try JSONValue(parsing: bytes) else {
                return .failure(InvalidEvent(id: nil, problem: "not a JSON object"))
            }
            object = fields
        } catch {
            return .failure(InvalidEvent(id: nil, problem: "not JSON: \(error)"))
        }
        let id = object["id"]?.string
        func invalid(_ problem: String) -> Result<RequestEvent, InvalidEvent> { .failure(InvalidEvent(id: id, problem: problem)) }
        guard let id, !id.isEmpty else { return invalid(object["id"] == nil ? "missing field id" : "id must be a non-empty string") }
        if let version = object["v"], version != .number("1") { return invalid("unsupported version v=\(version.summary); expected 1") }
        let cloudEvent = object["specversion"] != nil
        if let version = object["specversion"], version.string != "1.0" {
            return invalid("unsupported CloudEvents specversion \(version.summary); expected \"1.0\"")
        }
        // CloudEvents name the recipient `subject`; attribute names have no underscore.
        let toField = object["to"] ?? (cloudEvent ? object["subject"] : nil)
        guard let to = toField?.string, !to.isEmpty else {
            return invalid(toField == nil ? "missing field to" + (cloudEvent ? " (or subject)" : "") : "to must be a non-empty string")
        }
        let app = object["app"].map { $0.string } ?? "default"
        guard let app, !app.isEmpty else { return invalid("app must be a non-empty string") }
        let type = object["type"].map { $0.string }
        if case .some(nil) = type { return invalid("type must be a string") }
        var expiresAt: Date?
        if let raw = object["expires_at"] ?? (cloudEvent ? object["expiresat"] : nil) {
            guard let text = raw.string, let date = Timestamp.parse(text) else {
                return invalid("expires_at must be an RFC 3339 timestamp like 2026-11-22T12:00:00Z")
            }
            expiresAt = date
        }
        var notBefore: Date?
        if let raw = object["not_before"] ?? (cloudEvent ? object["notbefore"] : nil) {
            guard let text = raw.string, let date = Timestamp.parse(text) else {
                return invalid("not_before must be an RFC 3339 timestamp like 2026-11-22T08:00:00+08:00")
            }
            notBefore = date
        }
        // Bounded so every store keyed by them is bounded in bytes too (an openid is 28 bytes).
        let typeText: String = (type ?? nil) ?? ""
        for (field, value, limit) in [("id", id, 256), ("to", to, 128), ("app", app, 64), ("type", typeText, 128)]
        where value.utf8.count > limit {
            return invalid("\(field) is \(value.utf8.count) bytes; at most \(limit)")
        }
        let data = object["data"] ?? .object([:])
        guard case .object = data else { return invalid("data must be a JSON object") }
        var message: RawMessage?
        if let raw = object["message"] {
            switch RawMessage.parse(raw) {
            case .success(let parsed): message = parsed
            case .failure(let problem): return invalid("message is not a WeChat body: \(problem.detail)")
            }
        }
        if message == nil && type == nil { return invalid("needs a type (rendered by a rule) or a message (sent as given)") }
        return .success(
            RequestEvent(
                id: id, type: type ?? nil, message: message, app: app, to: to, data: data, expiresAt: expiresAt, notBefore: notBefore))
    }
}

extension RawMessage {
    /// A raw WeChat body from an event's `message`: `kind`, `template_id`, `data` required.
    static func parse(_ value: JSONValue) -> Result<RawMessage, Rejection> {
        guard case .object(let fields) = value else { return .failure(Rejection(.invalidEvent, "expected an object")) }
        guard let kindText = fields["kind"]?.string, let kind = MessageKind(rawValue: kindText) else {
            return .failure(Rejection(.invalidEvent, "kind must be one of \(MessageKind.allCases.map(\.rawValue))"))
        }
        guard let templateID = fields["template_id"]?.string, !templateID.isEmpty else {
            return .failure(Rejection(.invalidEvent, "template_id must be a non-empty string"))
        }
        guard case .object(let rawData)? = fields["data"] else { return .failure(Rejection(.invalidEvent, "data must be an object")) }
        var data: [String: RawField] = [:]
        for (key, field) in rawData {
            switch field {
            case .string(let text): data[key] = RawField(value: text, color: nil)
            case .object(let parts):
                guard let text = parts["value"]?.string else {
                    return .failure(Rejection(.invalidEvent, "data.\(key).value must be a string"))
                }
                data[key] = RawField(value: text, color: parts["color"]?.string)
            default: return .failure(Rejection(.invalidEvent, "data.\(key) must be a string or {value, color}"))
            }
        }
        var miniprogram: MiniProgramLink?
        if case .object(let link)? = fields["miniprogram"] {
            guard let appID = link["appid"]?.string else { return .failure(Rejection(.invalidEvent, "miniprogram.appid must be a string")) }
            miniprogram = MiniProgramLink(appID: appID, pagePath: link["pagepath"]?.string ?? "")
        }
        return .success(
            RawMessage(
                kind: kind, templateID: templateID, url: fields["url"]?.string, miniprogram: miniprogram, page: fields["page"]?.string,
                miniprogramState: fields["miniprogram_state"]?.string, lang: fields["lang"]?.string, data: data
            ))
    }
}
