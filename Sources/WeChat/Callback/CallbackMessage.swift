/// A callback body's fields: WeChat posts one `<xml>` element whose children are text or CDATA.
/// Nested elements (a subscribe event's `<List>`) are flattened: their children become fields too.
public struct CallbackMessage: Sendable, Equatable {
    public let fields: [String: String]
    /// Each innermost nested element (a subscribe event's `<List>` items): its children's fields, in order.
    public let items: [[String: String]]

    public subscript(name: String) -> String? { fields[name] }

    /// Nil when `xml` is not a well-formed `<xml>…</xml>` document of elements.
    public init?(xml: String) {
        let bytes = Array(xml.utf8)
        let open = Array("<xml>".utf8)
        let close = Array("</xml>".utf8)
        guard let start = Self.find(open, in: bytes, from: 0), let end = Self.find(close, in: bytes, from: start) else { return nil }
        var fields: [String: String] = [:]
        var items: [[String: String]] = []
        guard Self.parseChildren(bytes, from: start + open.count, to: end, into: &fields, items: &items, depth: 0) else { return nil }
        self.fields = fields
        self.items = items
    }

    public init(fields: [String: String], items: [[String: String]] = []) {
        self.fields = fields
        self.items = items
    }

    /// The document WeChat would send: every field as CDATA, in name order.
    public var xml: String {
        "<xml>" + fields.sorted { $0.key < $1.key }.map { "<\($0.key)><![CDATA[\($0.value)]]></\($0.key)>" }.joined() + "</xml>"
    }

    private static let cdataOpen = Array("<![CDATA[".utf8)
    private static let cdataClose = Array("]]>".utf8)

    /// The elements between `from` and `to`; false when they are not well formed.
    private static func parseChildren(
        _ bytes: [UInt8], from: Int, to: Int, into fields: inout [String: String], items: inout [[String: String]], depth: Int
    ) -> Bool {
        var index = from
        while let start = find([UInt8(ascii: "<")], in: bytes, from: index), start < to {
            guard depth < 4, let nameEnd = find([UInt8(ascii: ">")], in: bytes, from: start), nameEnd < to else { return false }
            let name = String(decoding: bytes[(start + 1)..<nameEnd], as: UTF8.self)
            guard !name.isEmpty, !name.hasPrefix("/"), !name.contains(" ") else { return false }
            let closing = Array("</\(name)>".utf8)
            guard let close = find(closing, in: bytes, from: nameEnd + 1), close < to else { return false }
            let inner = bytes[(nameEnd + 1)..<close]
            if inner.starts(with: cdataOpen), inner.reversed().starts(with: cdataClose.reversed()) {
                fields[name] = String(decoding: inner.dropFirst(cdataOpen.count).dropLast(cdataClose.count), as: UTF8.self)
            } else if inner.contains(UInt8(ascii: "<")) {
                var item: [String: String] = [:]
                var nested: [[String: String]] = []
                guard parseChildren(bytes, from: nameEnd + 1, to: close, into: &item, items: &nested, depth: depth + 1) else {
                    return false
                }
                fields.merge(item) { $1 }
                // The innermost groups are the items (each <List> inside <SubscribeMsgSentEvent>).
                if nested.isEmpty { items.append(item) } else { items += nested }
            } else {
                fields[name] = String(decoding: inner, as: UTF8.self)
            }
            index = close + closing.count
        }
        return true
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        for index in from...(haystack.count - needle.count) where haystack[index] == needle[0] {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
        }
        return nil
    }
}

/// A delivery receipt: `TEMPLATESENDJOBFINISH` (template messages) or a subscribe message's
/// `subscribe_msg_sent_event`, as WeChat reports it.
public struct DeliveryReceipt: Sendable, Equatable {
    public enum Status: String, Sendable { case delivered, userBlocked = "user_blocked", systemFailed = "system_failed" }

    public var openid: String
    public var msgid: Int64
    public var createTime: Int64
    public var status: Status
    /// The account's original id (gh_…), as WeChat sent it.
    public var toUserName: String

    public init(openid: String, msgid: Int64, createTime: Int64, status: Status, toUserName: String) {
        self.openid = openid
        self.msgid = msgid
        self.createTime = createTime
        self.status = status
        self.toUserName = toUserName
    }

    /// Every receipt `message` carries: one for TEMPLATESENDJOBFINISH, one per `<List>` item of a
    /// subscribe_msg_sent_event; none for any other event or message (acknowledged and ignored).
    public static func all(in message: CallbackMessage) -> [DeliveryReceipt] {
        guard message["MsgType"] == "event", let openid = message["FromUserName"], openid.utf8.count <= maxOpenIDBytes,
            let createTime = message["CreateTime"].flatMap({ Int64($0.trimmed) })
        else { return [] }
        let toUserName = message["ToUserName"] ?? ""
        func receipt(_ msgid: String?, _ status: Status) -> DeliveryReceipt? {
            guard let msgid = msgid.flatMap({ Int64($0.trimmed) }) else { return nil }
            return DeliveryReceipt(openid: openid, msgid: msgid, createTime: createTime, status: status, toUserName: toUserName)
        }
        switch message["Event"] {
        case "TEMPLATESENDJOBFINISH":
            // "success", "failed:user block", "failed: system failed" (sic, with the space).
            let status = (message["Status"] ?? "").lowercased()
            return [receipt(message["MsgID"], status == "success" ? .delivered : status.contains("block") ? .userBlocked : .systemFailed)]
                .compactMap { $0 }
        case "subscribe_msg_sent_event":
            // One <List> item per message: MsgID and ErrorCode (0 = delivered, 43101 = refused by the user).
            let items = message.items.isEmpty ? [message.fields] : message.items
            return items.compactMap { item in
                let code = (item["ErrorCode"] ?? "0").trimmed
                return receipt(item["MsgID"], code == "0" ? .delivered : code == "43101" ? .userBlocked : .systemFailed)
            }
        default:
            return []
        }
    }

    /// An openid is 28 bytes; a longer FromUserName is no receipt of ours (and would become a key).
    static let maxOpenIDBytes = 128

    /// The receipt a message carries; nil for none (the first of several: see `all(in:)`).
    public init?(_ message: CallbackMessage) {
        guard let first = Self.all(in: message).first else { return nil }
        self = first
    }

    /// The TEMPLATESENDJOBFINISH document for this receipt (the simulator sends these).
    public var templateFinishedMessage: CallbackMessage {
        let status =
            switch status {
            case .delivered: "success"
            case .userBlocked: "failed:user block"
            case .systemFailed: "failed: system failed"
            }
        return CallbackMessage(fields: [
            "ToUserName": toUserName, "FromUserName": openid, "CreateTime": String(createTime), "MsgType": "event",
            "Event": "TEMPLATESENDJOBFINISH", "MsgID": String(msgid), "Status": status,
        ])
    }
}

extension String {
    fileprivate var trimmed: String {
        String(self.drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\n" || $0 == "\t" }.reversed())
    }
}
