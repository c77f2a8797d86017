import JSON
import Kafka

/// The msgids topic's record for one `sent` outcome: key = the msgid in decimal, value =
/// `{"id","to","app"}`. Compacted by key; written in the same transaction as the outcome.
enum MsgidRecord {
    static func make(topic: String, msgid: Int64, outcome: Outcome) -> KafkaRecord {
        var out = JSONWriter()
        out.object {
            $0.field("id", outcome.id)
            $0.field("to", outcome.to)
            $0.field("app", outcome.app)
        }
        return KafkaRecord(topic: topic, key: Array(String(msgid).utf8), value: out.bytes)
    }

    /// A receipt published (key `receipt|<FromUserName+CreateTime+MsgID>`): every instance learns
    /// it, so WeChat's repeat of that callback is not published again wherever it lands.
    static let receiptPrefix = "receipt|"

    static func receiptMarker(topic: String, key: String) -> KafkaRecord {
        KafkaRecord(topic: topic, key: Array((receiptPrefix + key).utf8), value: [])
    }

    /// The longest receipt key kept (msgid, status and the recipient's openid fit many times over).
    static let maxReceiptKeyBytes = 256

    /// The receipt key a marker record stands for.
    static func receiptKey(_ message: KafkaMessage) -> String? {
        guard let key = message.key else { return nil }
        let text = String(decoding: key, as: UTF8.self)
        return text.hasPrefix(receiptPrefix) ? String(text.dropFirst(receiptPrefix.count)) : nil
    }

    static func decode(_ message: KafkaMessage) -> (msgid: Int64, entry: MsgidIndex.Entry)? {
        guard let key = message.key, key.count <= 20, let msgid = Int64(String(decoding: key, as: UTF8.self)),
            message.value.count <= 4096, case .object(let fields)? = try? JSONValue(parsing: message.value),
            let id = fields["id"]?.string
        else { return nil }
        return (msgid, MsgidIndex.Entry(id: id, to: fields["to"]?.string, app: fields["app"]?.string))
    }
}
