import Dispatcher
import Foundation
import Testing

@Suite("Request events: decoding and validation name the field")
struct RequestEventTests {
    func decode(_ json: String) -> Result<RequestEvent, InvalidEvent> { RequestEvent.decode(Array(json.utf8)) }

    func problem(_ json: String) -> String? {
        if case .failure(let invalid) = decode(json) { invalid.problem } else { nil }
    }

    @Test("a full event decodes; app defaults to default")
    func valid() throws {
        let event = try decode(
            #"{"v":1,"id":"e1","type":"order.shipped","to":"o1","data":{"order":{"id":"8812"}},"expires_at":"2026-11-22T12:00:00Z"}"#
        ).get()
        #expect(event.id == "e1")
        #expect(event.app == "default")
        #expect(event.data.value(at: "order.id") == .string("8812"))
        #expect(event.expiresAt == Date(timeIntervalSince1970: 1_795_348_800))
    }

    @Test("a structured-mode CloudEvent is a request: subject stands in for to, expiresat for expires_at")
    func cloudEvent() throws {
        let event = try decode(
            #"{"specversion":"1.0","id":"ce-1","source":"/orders","type":"order.shipped","subject":"oUser","app":"shop","#
                + #""expiresat":"2026-11-22T12:00:00Z","datacontenttype":"application/json","data":{"order":{"id":"8812"}}}"#
        ).get()
        #expect(event.to == "oUser")
        #expect(event.app == "shop")
        #expect(event.type == "order.shipped")
        #expect(event.data.value(at: "order.id") == .string("8812"))
        #expect(event.expiresAt == Date(timeIntervalSince1970: 1_795_348_800))
        let explicit = try decode(#"{"specversion":"1.0","id":"ce-2","type":"t","to":"oTo","subject":"oSubject"}"#).get()
        #expect(explicit.to == "oTo", "an explicit to wins over subject")
        let plain = decode(#"{"id":"e","type":"t","subject":"oSubject"}"#)
        #expect(throws: InvalidEvent.self, "subject means to only in a CloudEvent") { try plain.get() }
        #expect(problem(#"{"specversion":"1.0","id":"ce-3","type":"t"}"#) == "missing field to (or subject)")
        #expect(
            problem(#"{"specversion":"0.3","id":"ce-4","type":"t","subject":"o"}"#)
                == #"unsupported CloudEvents specversion "0.3"; expected "1.0""#)
    }

    @Test("fractional seconds and offsets in expires_at")
    func timestamps() throws {
        let event = try decode(#"{"id":"e","type":"t","to":"o","expires_at":"2026-11-22T20:00:00.500+08:00"}"#).get()
        #expect(event.expiresAt == Date(timeIntervalSince1970: 1_795_348_800.5))
    }

    @Test(
        "invalid input is rejected with a reason that names it",
        arguments: [
            ("not json", nil, "not JSON: unexpected character at byte 0"),
            (#"{"id":"e","to":"o",}"#, nil, "not JSON: expected a member name"),
            (#"[1,2]"#, nil, "not a JSON object"),
            (#"{"type":"t","to":"o"}"#, nil, "missing field id"),
            (#"{"id":42,"type":"t","to":"o"}"#, nil, "id must be a non-empty string"),
            (#"{"id":"e","type":"t"}"#, "e", "missing field to"),
            (#"{"id":"e","type":"t","to":7}"#, "e", "to must be a non-empty string"),
            (#"{"id":"e","to":"o"}"#, "e", "needs a type"),
            (#"{"id":"e","type":"t","to":"o","data":[1]}"#, "e", "data must be a JSON object"),
            (#"{"id":"e","type":"t","to":"o","expires_at":"tomorrow"}"#, "e", "expires_at must be"),
            (#"{"id":"e","type":"t","to":"o","v":2}"#, "e", "unsupported version"),
            (#"{"id":"e","to":"o","message":{"kind":"template"}}"#, "e", "message is not a WeChat body"),
        ] as [(String, String?, String)]
    )
    func invalid(json: String, id: String?, problem: String) {
        guard case .failure(let invalid) = decode(json) else {
            Issue.record("accepted \(json)")
            return
        }
        #expect(invalid.id == id)
        #expect(invalid.problem.contains(problem), "\(invalid.problem)")
    }

    @Test("a raw message event passes through")
    func rawMessage() throws {
        let event = try decode(
            ##"{"id":"e","to":"o","message":{"kind":"template","template_id":"T","url":"https://x","data":{"k":{"value":"v","color":"#fff"},"s":"plain"}}}"##
        ).get()
        #expect(event.message?.templateID == "T")
        #expect(event.message?.data["k"]?.color == "#fff")
        #expect(event.message?.data["s"]?.value == "plain")
    }
}

@Suite("What the stores keep is bounded in bytes")
struct StoreBoundTests {
    @Test("an id over 256 bytes, a to over 128, an app over 64 are invalid events, each naming its field and limit")
    func fieldLengths() {
        for (field, value, limit) in [
            ("id", String(repeating: "i", count: 257), 256), ("to", String(repeating: "o", count: 129), 128),
            ("app", String(repeating: "a", count: 65), 64),
        ] {
            var fields = ["id": "e1", "to": "o1", "app": "default"]
            fields[field] = value
            let json = #"{"v":1,"id":"\#(fields["id"]!)","to":"\#(fields["to"]!)","app":"\#(fields["app"]!)","type":"t"}"#
            guard case .failure(let invalid) = RequestEvent.decode(Array(json.utf8)) else {
                Issue.record("\(field) of \(value.count) bytes was accepted")
                continue
            }
            #expect(invalid.problem == "\(field) is \(value.count) bytes; at most \(limit)")
        }
    }

    @Test("the msgid index forgets its oldest entries past its byte budget, whatever the count")
    func msgidIndexBytes() {
        let index = MsgidIndex(capacity: 1_000_000, maxBytes: 10_000)
        for msgid in 0..<1_000 {
            index.insert(msgid: Int64(msgid), MsgidIndex.Entry(id: String(repeating: "x", count: 136), to: nil, app: nil))
        }
        // 200 bytes each: 50 fit.
        #expect(index.count == 50)
        #expect(index.lookup(999) != nil)
        #expect(index.lookup(949) == nil)
    }
}
