import Foundation
import JSON
import WeChat

/// A delivery receipt on the results topic (CONTRACT.md, `"kind": "receipt"`).
public struct ReceiptRecord: Sendable, Equatable {
    public var msgid: Int64
    public var to: String
    public var app: String
    public var status: DeliveryReceipt.Status
    /// The request's id, when the msgid index knew it.
    public var id: String?
    public var receivedAt: Date

    public init(msgid: Int64, to: String, app: String, status: DeliveryReceipt.Status, id: String?, receivedAt: Date) {
        self.msgid = msgid
        self.to = to
        self.app = app
        self.status = status
        self.id = id
        self.receivedAt = receivedAt
    }

    public func json() -> [UInt8] {
        var out = JSONWriter()
        out.object {
            $0.field("v", number: 1)
            $0.field("kind", "receipt")
            $0.field("msgid", number: msgid)
            $0.field("to", to)
            $0.field("app", app)
            $0.field("status", status.rawValue)
            $0.field("id", id)
            $0.field("received_at", Timestamp.format(receivedAt))
        }
        return out.bytes
    }

    /// Nil when the bytes are not a receipt event.
    public static func decode(_ bytes: [UInt8]) -> ReceiptRecord? {
        guard case .object(let fields)? = try? JSONValue(parsing: bytes), fields["kind"]?.string == "receipt",
            let msgid = fields["msgid"]?.int64, let to = fields["to"]?.string, let app = fields["app"]?.string,
            let status = fields["status"]?.string.flatMap(DeliveryReceipt.Status.init(rawValue:)),
            let receivedAt = fields["received_at"]?.string.flatMap(Timestamp.parse)
        else { return nil }
        return ReceiptRecord(msgid: msgid, to: to, app: app, status: status, id: fields["id"]?.string, receivedAt: receivedAt)
    }
}
