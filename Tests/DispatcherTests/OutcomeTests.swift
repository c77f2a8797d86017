import Dispatcher
import Foundation
import Kafka
import Testing

@Suite("Outcome events on the wire")
struct OutcomeTests {
    let source = TopicPartition(topic: "wxpush.requests", partition: 3)

    func outcome(reason: String?, msgid: Int64?) -> Outcome {
        Outcome(
            id: "order-8812-shipped", app: "default", to: "oXyz", type: "order.shipped", status: .sent, templateID: "TID",
            msgid: msgid, errcode: 0, errmsg: "ok", reason: reason, attempts: 1, source: source, offset: 1042,
            receivedAt: Date(timeIntervalSince1970: 1_795_338_000.12), completedAt: Date(timeIntervalSince1970: 1_795_338_000.181),
            needsDeadLetter: false
        )
    }

    @Test("every contract field is present, nulls included, and parses back")
    func contractFields() throws {
        let bytes = outcome(reason: nil, msgid: 200_228_332).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "v", "kind", "id", "app", "to", "type", "status", "template_id", "msgid", "errcode", "errmsg", "reason", "attempts",
                "source", "received_at", "completed_at",
            ])
        #expect(object["reason"] is NSNull)
        #expect(object["kind"] as? String == "dispatch")
        #expect((object["source"] as? [String: Any])?["offset"] as? Int == 1042)
        let receivedAt = try #require(object["received_at"] as? String)
        #expect(receivedAt.hasPrefix("2026-11-22T09:00:00.1") && receivedAt.hasSuffix("Z"), "\(receivedAt)")
        let record = try #require(OutcomeRecord.decode(bytes))
        #expect(record.msgid == 200_228_332)
        #expect(record.status == "sent")
    }

    @Test("strings are escaped: quotes, backslashes, control characters, and CJK passes through")
    func escaping() throws {
        let reason = "bad \"value\" \\ at\tfield\nline \u{01} 长"
        let bytes = outcome(reason: reason, msgid: nil).json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["reason"] as? String == reason)
        #expect(object["msgid"] is NSNull)
    }
}
