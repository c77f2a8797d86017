import Foundation
import JSON
import Kafka
import WeChat

/// One user's status for one scope on the recipients topic (`kafka.topics.recipients`): WeChat
/// said the user left or refused (suppressed), or came back (lifted). Keyed `app/openid/scope`,
/// so compaction keeps each scope's latest word. Backends may read the topic as a status feed.
public struct RecipientRecord: Sendable, Equatable {
    /// What a suppression covers.
    public enum Scope: Sendable, Hashable {
        /// The Official Account's messages (template and bizsend): the user unfollowed, or WeChat
        /// answered 43004 (not following), or the user blocked its template messages.
        case officialAccount
        /// One subscribe template: the user refused or withdrew it (43101, the subscribe pop-up).
        case template(String)

        public var text: String {
            switch self {
            case .officialAccount: "official_account"
            case .template(let id): "template:\(id)"
            }
        }

        public init?(text: String) {
            if text == "official_account" {
                self = .officialAccount
            } else if text.hasPrefix("template:"), text.count > 9 {
                self = .template(String(text.dropFirst(9)))
            } else {
                return nil
            }
        }
    }

    public enum Status: String, Sendable { case suppressed, lifted }

    public var app: String
    public var openid: String
    public var scope: Scope
    public var status: Status
    /// The signal: `unsubscribe`, `subscribe`, `errcode_43004`, `errcode_43101`, `user_blocked`,
    /// `subscribe_popup_reject`, `subscribe_popup_accept`, `subscribe_change_reject`, `operator`.
    public var source: String
    public var at: Date

    public init(app: String, openid: String, scope: Scope, status: Status, source: String, at: Date) {
        (self.app, self.openid, self.scope, self.status, self.source, self.at) = (app, openid, scope, status, source, at)
    }

    public var key: String { "\(app)/\(openid)/\(scope.text)" }

    public func record(topic: String) -> KafkaRecord {
        var out = JSONWriter()
        out.object {
            $0.field("v", number: 1)
            $0.field("kind", "recipient")
            $0.field("app", app)
            $0.field("openid", openid)
            $0.field("scope", scope.text)
            $0.field("status", status.rawValue)
            $0.field("source", source)
            $0.field("at", Timestamp.format(at))
        }
        return KafkaRecord(topic: topic, key: Array(key.utf8), value: out.bytes)
    }

    /// Bounded like the request fields they come from; a record beyond them is not ours.
    static let maxRecordBytes = 1_024

    public static func decode(_ bytes: [UInt8]) -> RecipientRecord? {
        guard bytes.count <= maxRecordBytes, case .object(let fields)? = try? JSONValue(parsing: bytes),
            fields["kind"]?.string == "recipient", let app = fields["app"]?.string, let openid = fields["openid"]?.string,
            app.utf8.count <= 64, openid.utf8.count <= 128,
            let scope = fields["scope"]?.string.flatMap(Scope.init(text:)),
            let status = fields["status"]?.string.flatMap(Status.init(rawValue:)),
            let source = fields["source"]?.string, let at = fields["at"]?.string.flatMap(Timestamp.parse)
        else { return nil }
        return RecipientRecord(app: app, openid: openid, scope: scope, status: status, source: source, at: at)
    }

    /// The scopes a message of `kind` with `templateID` falls under.
    static func scopes(kind: MessageKind, templateID: String) -> [Scope] {
        switch kind {
        case .template, .bizsend: [.officialAccount, .template(templateID)]
        case .subscribe: [.template(templateID)]
        }
    }

    /// What an outcome tells about its recipient: 43004 (not following: the Official Account's
    /// messages) and 43101 (refused: that template).
    public static func from(_ outcome: Outcome) -> RecipientRecord? {
        guard outcome.status == .rejected, let app = outcome.app, let openid = outcome.to else { return nil }
        switch (outcome.errcode, outcome.messageKind) {
        case (43004, .template?), (43004, .bizsend?):
            return RecipientRecord(
                app: app, openid: openid, scope: .officialAccount, status: .suppressed, source: "errcode_43004", at: outcome.completedAt)
        case (43101, _?):
            guard let template = outcome.templateID else { return nil }
            return RecipientRecord(
                app: app, openid: openid, scope: .template(template), status: .suppressed, source: "errcode_43101", at: outcome.completedAt)
        default:
            return nil
        }
    }

    /// What a callback tells about its sender: an unfollow or a follow, a subscribe template
    /// refused or accepted in the pop-up or the settings, a template message the user blocked.
    public static func all(in message: CallbackMessage, app: String) -> [RecipientRecord] {
        guard message["MsgType"] == "event", let openid = message["FromUserName"], !openid.isEmpty, openid.utf8.count <= 128
        else { return [] }
        let at =
            message["CreateTime"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }.map(Date.init(timeIntervalSince1970:))
            ?? Date()
        func record(_ scope: Scope, _ status: Status, _ source: String) -> RecipientRecord {
            RecipientRecord(app: app, openid: openid, scope: scope, status: status, source: source, at: at)
        }
        switch message["Event"] {
        case "unsubscribe": return [record(.officialAccount, .suppressed, "unsubscribe")]
        case "subscribe": return [record(.officialAccount, .lifted, "subscribe")]
        case "TEMPLATESENDJOBFINISH":
            // The receipt's own reading of the status (`DeliveryReceipt`).
            guard DeliveryReceipt(message)?.status == .userBlocked else { return [] }
            return [record(.officialAccount, .suppressed, "user_blocked")]
        case let event? where event == "subscribe_msg_popup_event" || event == "subscribe_msg_change_event":
            let kind = event == "subscribe_msg_popup_event" ? "popup" : "change"
            let items = message.items.isEmpty ? [message.fields] : message.items
            return items.compactMap { item in
                guard let template = item["TemplateId"], !template.isEmpty, template.utf8.count <= 128 else { return nil }
                switch item["SubscribeStatusString"] {
                case "reject": return record(.template(template), .suppressed, "subscribe_\(kind)_reject")
                case "accept": return record(.template(template), .lifted, "subscribe_\(kind)_accept")
                default: return nil
                }
            }
        default:
            return []
        }
    }
}
