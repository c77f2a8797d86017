import Dispatcher
import Foundation
import Harness
import Kafka
import Testing
import Waiting
import WeChat

/// schema/ publishes the three event shapes for producers and readers that are not wxpush. These
/// tests hold the schemas to the code: whatever the encoders write validates, and for real request
/// samples the schema and `RequestEvent.decode` give the same verdict, so neither side can drift
/// from the other without a failure here.
@Suite("JSON Schemas: what wxpush writes and accepts")
struct SchemaTests {
    /// The repository root: this file is Tests/DispatcherTests/SchemaTests.swift.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func document(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("schema/\(name).schema.json"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name).schema.json is no JSON object")
    }

    /// Loading refuses a schema with a keyword the validator does not check, so every test using it fails.
    static func validator(_ name: String) throws -> SchemaValidator { try SchemaValidator(document(name)) }

    static func expectValid(_ validator: SchemaValidator, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let errors = validator.errors(json: bytes)
        #expect(errors.isEmpty, "\(String(decoding: bytes, as: UTF8.self)): \(errors)", sourceLocation: sourceLocation)
    }

    /// Whether wxpush takes `bytes` as a request event.
    static func decodes(_ bytes: [UInt8]) -> Bool {
        if case .success = RequestEvent.decode(bytes) { true } else { false }
    }

    static let source = TopicPartition(topic: "wxpush.requests", partition: 3)
    static let receivedAt = Date(timeIntervalSince1970: 1_795_338_000.12)
    static let completedAt = Date(timeIntervalSince1970: 1_795_338_000.181)

    /// A sent outcome, as in OutcomeTests.
    static func sent(msgid: Int64? = 200_228_332) -> Outcome {
        Outcome(
            id: "order-8812-shipped", app: "default", to: "oXyz", type: "order.shipped", status: .sent, templateID: "TID",
            msgid: msgid, errcode: 0, errmsg: "ok", reason: nil, attempts: 1, source: source, offset: 1042, receivedAt: receivedAt,
            completedAt: completedAt, needsDeadLetter: false
        )
    }

    /// The status EventProcessor ends each code with. Exhaustive, so a new code has to be placed here
    /// (and, through `closedSets`, in the schema).
    static func status(of code: ReasonCode) -> Outcome.Status {
        switch code {
        case .alreadySent: .sent
        case .expired: .expired
        case .accountMisconfigured, .retriesExhausted, .fateUnknown: .failed
        case .invalidEvent, .unknownApp, .unknownType, .missingVariable, .fieldInvalid, .recipientThrottled, .errcodeTerminal, .suppressed,
            .templateMissing:
            .rejected
        }
    }

    /// The ```json blocks of docs/contract.md, each with the shape its fields name.
    static func contractBlocks() throws -> [(shape: String, bytes: [UInt8])] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/contract.md"), encoding: .utf8)
        return try text.components(separatedBy: "```json\n").dropFirst().map { chunk in
            let block = chunk.components(separatedBy: "```")[0]
            let object = try JSONSerialization.jsonObject(with: Data(block.utf8)) as? [String: Any]
            let shape =
                switch object?["kind"] as? String ?? "" {
                case "dispatch": "outcome"
                case "receipt": "receipt"
                case "recipient": "recipient"
                default: "request"
                }
            return (shape: shape, bytes: Array(block.utf8))
        }
    }

    @Test("each schema is draft 2020-12 JSON, names itself, and uses only keywords the validator checks")
    func schemasLoad() throws {
        for name in ["request", "outcome", "receipt", "recipient"] {
            let document = try Self.document(name)
            #expect(document["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema", "\(name)")
            #expect(document["$id"] as? String == "https://wxpush.dev/schema/\(name).schema.json", "\(name)")
            _ = try SchemaValidator(document)
        }
    }

    /// A reason code or message kind added to the code must be added to the schema, and the reverse.
    @Test("the outcome schema's reason_code and message_kind enums are exactly the code's, plus null")
    func closedSets() throws {
        let properties = try #require(try Self.document("outcome")["properties"] as? [String: Any])
        let closedSets = [("reason_code", ReasonCode.allCases.map(\.rawValue)), ("message_kind", MessageKind.allCases.map(\.rawValue))]
        for (field, expected) in closedSets {
            let values = try #require((properties[field] as? [String: Any])?["enum"] as? [Any], "\(field) has an enum")
            #expect(values.compactMap { $0 as? String } == expected, "\(field)")
            #expect(values.filter { $0 is NSNull }.count == 1, "\(field): null, for an outcome it does not apply to")
            #expect(values.count == expected.count + 1, "\(field): nothing but the strings and null")
        }
    }

    @Test("outcomes as Outcome.json() writes them validate: sent, every reason code, every nullable field null, the additive fields")
    func outcomes() throws {
        let validator = try Self.validator("outcome")
        Self.expectValid(validator, Self.sent().json())
        for code in ReasonCode.allCases {
            var outcome = Self.sent(msgid: code == .alreadySent ? 200_228_332 : nil)
            outcome.status = Self.status(of: code)
            outcome.reasonCode = code
            outcome.reason = "\(code.rawValue): why"
            outcome.attempts = code == .alreadySent ? 0 : 3
            Self.expectValid(validator, outcome.capped().json())
        }
        // A record that is no event: what could not be read stays null, the id is where it was read.
        var invalid = Outcome(
            id: "wxpush.requests/3/1042", app: nil, to: nil, type: nil, status: .rejected, templateID: nil, msgid: nil, errcode: nil,
            errmsg: nil, reason: "invalid_event: not JSON", attempts: 0, source: Self.source, offset: 1042, receivedAt: Self.receivedAt,
            completedAt: Self.completedAt, needsDeadLetter: true)
        invalid.reasonCode = .invalidEvent
        Self.expectValid(validator, invalid.json())
        // Every nullable field null at once: only a sent outcome may lack a reason code, and its msgid is null when WeChat gave none.
        invalid.status = .sent
        invalid.reason = nil
        invalid.reasonCode = nil
        let bare = try #require(try JSONSerialization.jsonObject(with: Data(invalid.json())) as? [String: Any])
        let nulls = bare.filter { $0.value is NSNull }.keys.sorted()
        #expect(nulls.count == 13, "all but v kind id status attempts source received_at completed_at: \(nulls)")
        #expect(validator.errors(bare).isEmpty, "\(validator.errors(bare))")
        // The additive fields set, and a msgid beyond 2^53.
        var additive = Self.sent(msgid: 3_229_582_340_913_905_665)
        additive.requestedAt = Date(timeIntervalSince1970: 1_795_337_999.5)
        additive.messageKind = .subscribe
        additive.trace = TraceHeader(name: "traceparent", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        Self.expectValid(validator, additive.json())
        additive.trace = TraceHeader(name: "x-request-id", value: String(repeating: "r", count: 256))
        Self.expectValid(validator, additive.json())
        // The schema's maxLength numbers are the publisher's caps.
        var long = Self.sent()
        long.id = String(repeating: "i", count: 5_000)
        long.reason = String(repeating: "x", count: 10_000)
        long.errmsg = String(repeating: "e", count: 10_000)
        long.templateID = String(repeating: "t", count: 1_000)
        Self.expectValid(validator, long.capped().json())
    }

    /// The processor decides most outcomes; these go from request bytes to the record the publisher writes.
    @Test("outcomes EventProcessor decides validate: not JSON, no recipient, an unknown app or type, a send")
    func processorOutcomes() async throws {
        let validator = try Self.validator("outcome")
        let rules = try RuleBook(RulesFile(rules: [:]))
        let processor = EventProcessor(
            rules: rules, sender: ScriptedSender([]), retry: RetryPolicy(), clock: ManualClock(), now: { Self.completedAt })
        let requests = [
            "not JSON", #"{"v":1,"id":"e1","type":"t"}"#, #"{"v":1,"id":"e2","to":"o1","app":"shop","type":"t"}"#,
            #"{"v":1,"id":"e3","to":"o1","type":"order.shipped"}"#, EventProcessorTests.valid,
        ]
        let trace = KafkaHeader(name: "traceparent", string: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        for (offset, json) in requests.enumerated() {
            let record = KafkaMessage(
                topic: "wxpush.requests", partition: 3, offset: Int64(offset), key: Array("o1".utf8), value: Array(json.utf8),
                headers: [trace], timestampMilliseconds: 1_795_337_999_500)
            let outcome: Outcome
            switch processor.prepare(record) {
            case .finished(let finished):
                outcome = finished
            case .send(let pending):
                guard case .finished(let finished) = await processor.attempt(pending) else {
                    Issue.record("\(json): no outcome after one attempt")
                    continue
                }
                outcome = finished
            }
            Self.expectValid(validator, outcome.capped().json())
        }
    }

    @Test("receipts as ReceiptRecord.json() writes them validate, with and without the request id")
    func receipts() throws {
        let validator = try Self.validator("receipt")
        for status in [DeliveryReceipt.Status.delivered, .userBlocked, .systemFailed] {
            for id in ["order-8812-shipped", nil] as [String?] {
                let record = ReceiptRecord(
                    msgid: 3_229_582_340_913_905_665, to: "oXyz", app: "default", status: status, id: id,
                    receivedAt: Date(timeIntervalSince1970: 1_795_338_001.02))
                let bytes = record.json()
                Self.expectValid(validator, bytes)
                #expect(ReceiptRecord.decode(bytes)?.status == status, "and it reads back")
            }
        }
    }

    @Test("recipient statuses as RecipientRecord writes them validate, for every scope and status, and read back")
    func recipients() throws {
        let validator = try Self.validator("recipient")
        for scope in [RecipientRecord.Scope.officialAccount, .template("TID-1")] {
            for (status, source) in [(RecipientRecord.Status.suppressed, "unsubscribe"), (.lifted, "operator")] {
                let record = RecipientRecord(
                    app: "default", openid: "oXyz", scope: scope, status: status, source: source,
                    at: Date(timeIntervalSince1970: 1_795_338_000))
                let bytes = record.record(topic: "wxpush.recipients").value
                Self.expectValid(validator, bytes)
                #expect(RecipientRecord.decode(bytes) == record)
            }
        }
    }

    /// The harness's mix includes invalid events (not JSON, no recipient) and valid ones wxpush later
    /// rejects (unknown type, missing variable): the schema covers decoding only, as the decoder does.
    @Test("the harness's sample events: the schema accepts exactly those RequestEvent.decode takes")
    func sampleEvents() throws {
        let validator = try Self.validator("request")
        var (accepted, refused) = (0, 0)
        for shape in [SampleEvents.Shape.rules, .raw, .rawSubscribe, .mixed] {
            for event in SampleEvents.make(count: 250, openids: 40, shape: shape, runID: "schema") {
                let errors = validator.errors(json: event.bytes)
                let decodes = Self.decodes(event.bytes)
                #expect(errors.isEmpty == decodes, "\(String(decoding: event.bytes, as: UTF8.self)): \(errors)")
                if decodes { accepted += 1 } else { refused += 1 }
            }
        }
        #expect(accepted > 900, "mostly valid events")
        #expect(refused > 0, "the mix has invalid events, so both verdicts are compared")
    }

    @Test("docs/contract.md's request examples validate and decode; its receipt and recipient examples validate")
    func contractExamples() throws {
        let examples = try Self.contractBlocks()
        let requests = try Self.validator("request")
        #expect(examples.contains { $0.shape == "request" }, "the contract shows a request")
        for example in examples where example.shape == "request" {
            Self.expectValid(requests, example.bytes)
            #expect(Self.decodes(example.bytes), "\(String(decoding: example.bytes, as: UTF8.self))")
        }
        let receipts = try Self.validator("receipt")
        for example in examples where example.shape == "receipt" { Self.expectValid(receipts, example.bytes) }
        let recipients = try Self.validator("recipient")
        #expect(examples.contains { $0.shape == "recipient" }, "the contract shows a recipient status")
        for example in examples where example.shape == "recipient" { Self.expectValid(recipients, example.bytes) }
    }

    @Test("docs/contract.md's outcome example")
    func contractOutcomeExample() throws {
        let validator = try Self.validator("outcome")
        let outcomes = try Self.contractBlocks().filter { $0.shape == "outcome" }
        #expect(!outcomes.isEmpty, "the contract shows an outcome")
        for example in outcomes { Self.expectValid(validator, example.bytes) }
    }

    /// Both verdicts against a fixed expectation, so agreement cannot come from both being wrong.
    @Test(
        "the request schema and RequestEvent.decode agree",
        arguments: [
            // CloudEvents: subject stands in for to, expiresat for expires_at; an explicit to wins.
            (
                #"{"specversion":"1.0","id":"ce-1","source":"/orders","type":"order.shipped","subject":"oUser","app":"shop","#
                    + #""expiresat":"2026-11-22T12:00:00Z","datacontenttype":"application/json","data":{"order":{"id":"8812"}}}"#, true
            ),
            (#"{"specversion":"1.0","id":"ce-2","type":"t","to":"oTo","subject":"oSubject"}"#, true),
            (#"{"specversion":"1.0","id":"ce-3","type":"t","subject":"o","expiresat":"2026-11-22T20:00:00.500+08:00"}"#, true),
            (#"{"specversion":"1.0","id":"ce-4","type":"t"}"#, false),
            (#"{"specversion":"1.0","id":"ce-5","type":"t","subject":""}"#, false),
            (#"{"specversion":"1.0","id":"ce-6","type":"t","subject":"o","expiresat":"soon"}"#, false),
            (#"{"specversion":"1.0","id":"ce-7","type":"t","subject":"o","notbefore":"2026-11-22T08:00:00+08:00"}"#, true),
            (#"{"id":"nb-1","type":"t","to":"o","not_before":"2026-11-22T08:00:00Z"}"#, true),
            (#"{"id":"nb-2","type":"t","to":"o","not_before":"tomorrow"}"#, false),
            (#"{"specversion":"0.3","id":"ce-7","type":"t","subject":"o"}"#, false),
            (#"{"id":"e","type":"t","subject":"o"}"#, false),
            // Raw messages.
            (
                ##"{"id":"e","to":"o","app":"shop","message":{"kind":"subscribe","template_id":"T","page":"pages/o","##
                    + ##""miniprogram_state":"formal","lang":"zh_CN","data":{"k":{"value":"v","color":"#173177"},"s":"plain"}}}"##, true
            ),
            (
                #"{"id":"e","to":"o","message":{"kind":"template","template_id":"T","miniprogram":{"appid":"w"},"data":{}}}"#, true
            ),
            (#"{"id":"e","to":"o","message":{"kind":"template","template_id":"T","miniprogram":{"pagepath":"p"},"data":{}}}"#, false),
            (#"{"id":"e","to":"o","message":{"kind":"template"}}"#, false),
            (#"{"id":"e","to":"o","message":{"kind":"sms","template_id":"T","data":{}}}"#, false),
            (#"{"id":"e","to":"o","message":{"kind":"template","template_id":"","data":{}}}"#, false),
            (#"{"id":"e","to":"o","message":{"kind":"template","template_id":"T","data":{"k":42}}}"#, false),
            // Plain events: bounds, types, versions.
            (#"{"v":1,"id":"e","to":"o","type":"t","extra":{"ignored":true}}"#, true),
            (#"{"id":"\#(String(repeating: "i", count: 256))","to":"o","type":"t"}"#, true),
            (#"{"id":"\#(String(repeating: "i", count: 257))","to":"o","type":"t"}"#, false),
            (#"{"id":"e","to":"\#(String(repeating: "o", count: 129))","type":"t"}"#, false),
            (#"{"id":"e","to":"o","type":"t","app":"\#(String(repeating: "a", count: 65))"}"#, false),
            (#"{"type":"t","to":"o"}"#, false),
            (#"{"id":"","type":"t","to":"o"}"#, false),
            (#"{"id":42,"type":"t","to":"o"}"#, false),
            (#"{"id":"e","type":"t","to":""}"#, false),
            (#"{"id":"e","to":"o"}"#, false),
            (#"{"id":"e","type":null,"to":"o"}"#, false),
            (#"{"id":"e","type":"t","to":"o","app":null}"#, false),
            (#"{"id":"e","type":"t","to":"o","data":[1]}"#, false),
            (#"{"id":"e","type":"t","to":"o","expires_at":"tomorrow"}"#, false),
            (#"{"id":"e","type":"t","to":"o","v":2}"#, false),
            (#"{"id":"e","type":"t","to":"o","v":"1"}"#, false),
            ("[1,2]", false),
            ("not JSON", false),
        ] as [(String, Bool)]
    )
    func agreement(json: String, accepted: Bool) throws {
        let bytes = Array(json.utf8)
        let errors = try Self.validator("request").errors(json: bytes)
        #expect(errors.isEmpty == accepted, "the schema: \(errors)")
        #expect(Self.decodes(bytes) == accepted, "RequestEvent.decode: \(RequestEvent.decode(bytes))")
    }

    /// The validator must be able to fail, or every test above passes vacuously.
    @Test("the validator rejects what the contract forbids: no id, an unknown status, no reason_code, a date that is none")
    func rejections() throws {
        let requests = try Self.validator("request")
        let noID = requests.errors(json: Array(#"{"v":1,"type":"t","to":"o"}"#.utf8))
        #expect(noID.contains("$: missing required id"), "\(noID)")
        let tomorrow = requests.errors(json: Array(#"{"v":1,"id":"e","type":"t","to":"o","expires_at":"tomorrow"}"#.utf8))
        #expect(tomorrow.contains { $0.hasPrefix("$.expires_at:") }, "\(tomorrow)")

        let outcomes = try Self.validator("outcome")
        var outcome = try #require(try JSONSerialization.jsonObject(with: Data(Self.sent().json())) as? [String: Any])
        #expect(outcomes.errors(outcome).isEmpty)
        outcome["status"] = "delivered"
        #expect(outcomes.errors(outcome).contains { $0.hasPrefix("$.status:") }, "\(outcomes.errors(outcome))")
        outcome["status"] = "sent"
        outcome.removeValue(forKey: "reason_code")
        #expect(outcomes.errors(outcome).contains("$: missing required reason_code"), "\(outcomes.errors(outcome))")
        outcome["reason_code"] = NSNull()
        outcome["msgid_str"] = "2e8"
        #expect(outcomes.errors(outcome).contains { $0.hasPrefix("$.msgid_str:") }, "\(outcomes.errors(outcome))")

        var uncapped = Self.sent()
        uncapped.reason = String(repeating: "x", count: 3_000)
        #expect(!outcomes.errors(json: uncapped.json()).isEmpty, "only capped outcomes fit")
        var unexplained = Self.sent()
        unexplained.status = .failed
        #expect(!outcomes.errors(json: unexplained.json()).isEmpty, "a failed outcome without a reason code")
    }

    @Test("the validator refuses keywords it does not check and tells booleans from integers")
    func validatorItself() throws {
        #expect(throws: SchemaValidator.Unsupported.self) {
            _ = try SchemaValidator(["type": "object", "propertyNames": ["maxLength": 3]])
        }
        #expect(throws: SchemaValidator.Unsupported.self) { _ = try SchemaValidator(["$ref": "#/$defs/missing"]) }
        #expect(throws: SchemaValidator.Unsupported.self) { _ = try SchemaValidator(["format": "email"]) }
        let integer = try SchemaValidator(["type": "integer"])
        #expect(integer.errors(json: Array("1".utf8)).isEmpty)
        #expect(!integer.errors(json: Array("true".utf8)).isEmpty)
        #expect(!integer.errors(json: Array("1.5".utf8)).isEmpty)
        #expect(!SchemaValidator.isDateTime("2026-11-22T20:00:00+0800"), "RFC 3339 offsets have a colon")
        #expect(SchemaValidator.isDateTime("2026-11-22T20:00:00.500+08:00"))
    }
}
