import Dispatcher
import Foundation
import Kafka
import Testing
import WeChat

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
                "v", "kind", "id", "app", "to", "type", "status", "template_id", "message_kind", "msgid", "msgid_str", "errcode",
                "errmsg", "reason", "reason_code", "attempts", "source", "requested_at", "received_at", "completed_at", "trace_id",
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

    @Test("the additive fields: reason code, request time, message kind, trace id, msgid as a string beyond 2^53")
    func additiveFields() throws {
        var outcome = outcome(reason: "already_sent: the sent log", msgid: 3_229_582_340_913_905_665)
        outcome.reasonCode = .alreadySent
        outcome.requestedAt = Date(timeIntervalSince1970: 1_795_337_999.5)
        outcome.messageKind = .subscribe
        outcome.trace = TraceHeader(name: "traceparent", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(outcome.json())) as? [String: Any])
        #expect(object["reason_code"] as? String == "already_sent")
        #expect(object["requested_at"] as? String == "2026-11-22T08:59:59.500Z")
        #expect(object["message_kind"] as? String == "subscribe")
        #expect(object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(object["msgid_str"] as? String == "3229582340913905665")
        outcome.trace = TraceHeader(name: "x-request-id", value: "req-77")
        #expect(outcome.traceID == "req-77")
        outcome.trace = TraceHeader(name: "traceparent", value: "garbage")
        #expect(outcome.traceID == nil, "a malformed traceparent names no trace")
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
