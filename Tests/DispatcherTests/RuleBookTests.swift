import Dispatcher
import JSON
import Testing
import WeChat

@Suite("Rules and rendering")
struct RuleBookTests {
    let book: RuleBook = try! RuleBook(
        RulesFile(rules: [
            "order.shipped": Rule(
                kind: .template, templateID: "TID", url: "https://shop.example/orders/{{order.id}}",
                data: [
                    "keyword1": FieldTemplate(value: "{{order.carrier}} & co"),
                    "keyword2": FieldTemplate(value: "{{order.eta}}", color: "#173177"),
                ]
            ),
            "appointment": Rule(
                kind: .subscribe, templateID: "SUB", page: "pages/a?id={{id}}",
                data: [
                    "thing1": FieldTemplate(value: "{{title}}"),
                    "thing2": FieldTemplate(value: "{{title}}", overflow: .reject),
                    "number3": FieldTemplate(value: "{{count}}"),
                ]
            ),
            "list": Rule(kind: .template, templateID: "L", data: ["keyword1": FieldTemplate(value: "{{#items}}{{name}},{{/items}}")]),
            "scalars": Rule(
                kind: .template, templateID: "S",
                data: [
                    "keyword1": FieldTemplate(value: "#{{ order.id }} {{{order.paid}}} {{&order.note}}"),
                    "keyword2": FieldTemplate(value: "{{items.1.name}}"), "keyword3": FieldTemplate(value: "{{order}}"),
                ]
            ),
        ]))

    func event(_ type: String?, _ data: JSONValue, message: RawMessage? = nil) -> RequestEvent {
        RequestEvent(id: "evt-1", type: type, message: message, app: "default", to: "o1", data: data, expiresAt: nil)
    }

    @Test("a template rule renders fields, url and client_msg_id; no HTML escaping")
    func template() throws {
        let data = JSONValue.object(["order": .object(["id": .string("8812"), "carrier": .string("SF"), "eta": .string("11-24")])])
        let message = try book.message(for: event("order.shipped", data)).get()
        #expect(message.kind == .template)
        #expect(message.templateID == "TID")
        #expect(message.url == "https://shop.example/orders/8812")
        #expect(message.data["keyword1"] == FieldValue(value: "SF & co", color: nil))
        #expect(message.data["keyword2"]?.color == "#173177")
        #expect(message.clientMsgID == ClientMessageID.derive(fromEventID: "evt-1"))
    }

    @Test("an unknown type is rejected and named")
    func unknownType() {
        #expect(book.message(for: event("nope", .object([:]))) == .failure(Rejection(.unknownType, "no rule for type nope")))
    }

    @Test("a missing variable is rejected and named, with the field")
    func missingVariable() {
        let data = JSONValue.object(["order": .object(["id": .string("1"), "carrier": .string("SF")])])
        guard case .failure(let rejection) = book.message(for: event("order.shipped", data)) else {
            Issue.record("rendered with a missing variable")
            return
        }
        #expect(rejection.reason.hasPrefix("missing_variable: order.eta (field keyword2)"))
    }

    @Test("variables inside sections resolve per item and are not required at the top")
    func sections() throws {
        let data = JSONValue.object(["items": .array([.object(["name": .string("a")]), .object(["name": .string("b")])])])
        #expect(try book.message(for: event("list", data)).get().data["keyword1"]?.value == "a,b,")
        #expect(try book.message(for: event("list", .object([:]))).get().data["keyword1"]?.value == "")
    }

    @Test("plain variables render as written: long numbers, booleans, array steps; containers go through Mustache")
    func plainVariables() throws {
        let data = try JSONValue(
            parsing: Array(#"{"order":{"id":12345678901234567890,"paid":true,"note":"a<b>"},"items":[{"name":"x"},{"name":"y"}]}"#.utf8))
        let message = try book.message(for: event("scalars", data)).get()
        #expect(message.data["keyword1"]?.value == "#12345678901234567890 true a<b>")
        #expect(message.data["keyword2"]?.value == "y")
        #expect(message.data["keyword3"]?.value.isEmpty == false)
    }

    @Test("a subscribe field over its limit is truncated or rejected per policy")
    func fieldLimits() throws {
        let long = String(repeating: "长", count: 25)
        let rejected = book.message(
            for: event("appointment", .object(["id": .string("1"), "title": .string(long), "count": .number("3")])))
        guard case .failure(let rejection) = rejected else {
            Issue.record("thing2 (overflow: reject) was accepted")
            return
        }
        #expect(rejection.reason.contains("field_invalid"))
        #expect(rejection.reason.contains("thing2"))
    }

    @Test("truncation keeps the value within the limit with an ellipsis")
    func truncation() throws {
        let rules = RulesFile(rules: ["a": Rule(kind: .subscribe, templateID: "S", data: ["thing1": FieldTemplate(value: "{{t}}")])])
        let message = try RuleBook(rules).message(for: event("a", .object(["t": .string(String(repeating: "x", count: 30))]))).get()
        let value = try #require(message.data["thing1"]?.value)
        #expect(value.count == 20)
        #expect(value.hasSuffix("…"))
    }

    @Test("a number that is not a number is rejected (never truncated)")
    func formattedTypes() {
        let data = JSONValue.object(["id": .string("1"), "title": .string("ok"), "count": .string("three")])
        guard case .failure(let rejection) = book.message(for: event("appointment", data)) else {
            Issue.record("number3 = three accepted")
            return
        }
        #expect(rejection.reason.contains("number3"))
    }

    @Test("a template that does not parse is a configuration error naming the rule")
    func badTemplate() {
        #expect(throws: RuleBookError.self) {
            try RuleBook(
                RulesFile(rules: ["broken": Rule(kind: .template, templateID: "T", data: ["k": FieldTemplate(value: "{{#open}}")])]))
        }
    }
}
