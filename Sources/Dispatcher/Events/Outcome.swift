import Foundation
import JSON
import Kafka
import WeChat

/// The one final outcome of a request (docs/contract.md, `"kind": "dispatch"`).
public struct Outcome: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case sent, rejected, failed, expired }

    public var id: String
    public var app: String?
    public var to: String?
    public var type: String?
    public var status: Status
    public var templateID: String?
    public var msgid: Int64?
    public var errcode: Int?
    public var errmsg: String?
    public var reason: String?
    /// `reason`'s code, from a closed set (nil for a plain `sent`).
    public var reasonCode: ReasonCode?
    public var attempts: Int
    public var source: TopicPartition
    public var offset: Int64
    public var receivedAt: Date
    public var completedAt: Date

    /// Failed and rejected-invalid requests also get a DLQ copy of their original bytes.
    public var needsDeadLetter: Bool
    /// The request record's trace header, carried onto the WeChat call and the outcome record.
    public var trace: TraceHeader?
    /// The request record's Kafka timestamp (`received_at` minus it is the consumer's lag).
    public var requestedAt: Date?
    /// The WeChat API the rule (or the raw message) chose; nil when nothing was rendered.
    public var messageKind: MessageKind?

    /// The trace id alone: a `traceparent`'s second field, else the `x-request-id` value.
    public var traceID: String? { trace?.traceID }

    public init(
        id: String, app: String?, to: String?, type: String?, status: Status, templateID: String?, msgid: Int64?, errcode: Int?,
        errmsg: String?, reason: String?, attempts: Int, source: TopicPartition, offset: Int64, receivedAt: Date, completedAt: Date,
        needsDeadLetter: Bool
    ) {
        self.id = id
        self.app = app
        self.to = to
        self.type = type
        self.status = status
        self.templateID = templateID
        self.msgid = msgid
        self.errcode = errcode
        self.errmsg = errmsg
        self.reason = reason
        self.attempts = attempts
        self.source = source
        self.offset = offset
        self.receivedAt = receivedAt
        self.completedAt = completedAt
        self.needsDeadLetter = needsDeadLetter
    }

    /// Longest id kept in an outcome (and its key); longest free text (reason, errmsg).
    public static let idLimit = 1_024
    public static let textLimit = 2_048

    /// The outcome with every free-text field cut to its limit (ending with "…"), so an outcome
    /// record always fits in a Kafka message, whatever the request carried.
    public func capped() -> Outcome {
        var copy = self
        copy.id = Self.cap(id, Self.idLimit)
        copy.app = app.map { Self.cap($0, 256) }
        copy.to = to.map { Self.cap($0, 256) }
        copy.type = type.map { Self.cap($0, 256) }
        copy.templateID = templateID.map { Self.cap($0, 256) }
        copy.errmsg = errmsg.map { Self.cap($0, Self.textLimit) }
        copy.reason = reason.map { Self.cap($0, Self.textLimit) }
        return copy
    }

    /// `text` cut to at most `limit` UTF-8 bytes on a character boundary, marked with "…".
    public static func cap(_ text: String, _ limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var kept = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            guard bytes + size <= limit - 3 else { break }
            kept.append(character)
            bytes += size
        }
        return kept + "…"
    }

    /// The wire form: every contract field present, `null` included, keys in a fixed order.
    public func json() -> [UInt8] {
        var out = JSONWriter()
        out.object {
            $0.field("v", number: 1)
            $0.field("kind", "dispatch")
            $0.field("id", id)
            $0.field("app", app)
            $0.field("to", to)
            $0.field("type", type)
            $0.field("status", status.rawValue)
            $0.field("template_id", templateID)
            $0.field("message_kind", messageKind?.rawValue)
            $0.field("msgid", number: msgid)
            // The same as a string: JavaScript and jq lose digits of numbers above 2^53.
            $0.field("msgid_str", msgid.map(String.init))
            $0.field("errcode", number: errcode.map(Int64.init))
            $0.field("errmsg", errmsg)
            $0.field("reason", reason)
            $0.field("reason_code", reasonCode?.rawValue)
            $0.field("attempts", number: Int64(attempts))
            $0.key("source")
            $0.object {
                $0.field("topic", source.topic)
                $0.field("partition", number: Int64(source.partition))
                $0.field("offset", number: offset)
            }
            $0.field("requested_at", requestedAt.map(Timestamp.format))
            $0.field("received_at", Timestamp.format(receivedAt))
            $0.field("completed_at", Timestamp.format(completedAt))
            $0.field("trace_id", traceID)
        }
        return out.bytes
    }
}

/// An outcome event read back from the results topic (for tests, the demo and benchmarks).
public struct OutcomeRecord: Sendable, Equatable {
    public let v: Int
    public let kind: String
    public let id: String
    public let status: String
    public let reason: String?
    public let reasonCode: String?
    public let errcode: Int?
    public let msgid: Int64?
    public let attempts: Int
    public let to: String?
    /// Where the request was read: `topic/partition/offset`.
    public let source: String?

    private static func source(_ value: JSONValue?) -> String? {
        guard case .object(let source)? = value, let topic = source["topic"]?.string, let partition = source["partition"]?.int64,
            let offset = source["offset"]?.int64
        else { return nil }
        return "\(topic)/\(partition)/\(offset)"
    }

    /// Nil when the bytes are not an outcome event.
    public static func decode(_ bytes: [UInt8]) -> OutcomeRecord? {
        guard case .object(let fields)? = try? JSONValue(parsing: bytes),
            let v = fields["v"]?.int64, let kind = fields["kind"]?.string, let id = fields["id"]?.string,
            let status = fields["status"]?.string, let attempts = fields["attempts"]?.int64
        else { return nil }
        return OutcomeRecord(
            v: Int(v), kind: kind, id: id, status: status, reason: fields["reason"]?.string, reasonCode: fields["reason_code"]?.string,
            errcode: fields["errcode"]?.int64.map(Int.init),
            msgid: fields["msgid"]?.int64, attempts: Int(attempts), to: fields["to"]?.string,
            source: Self.source(fields["source"])
        )
    }
}
