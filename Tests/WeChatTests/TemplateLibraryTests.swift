import JSON
import Simulator
import Testing

@testable import WeChat

@Suite("Template libraries: keywords from content, both of WeChat's list shapes, read from the simulator")
struct TemplateLibraryTests {
    @Test("keywords are the {{name.DATA}} placeholders in order, spaces inside the braces tolerated, each once")
    func keywords() {
        #expect(
            TemplateLibrary.keywords(in: "{{first.DATA}}\n订单号：{{keyword1.DATA}}\n金额：{{amount2.DATA}}\n{{remark.DATA}}")
                == ["first", "keyword1", "amount2", "remark"])
        #expect(TemplateLibrary.keywords(in: "{ {result.DATA} }\n领奖金额:{ {withdrawMoney.DATA} }}") == ["result", "withdrawMoney"])
        #expect(TemplateLibrary.keywords(in: "会议时间:{{date2.DATA}}\n会议地点:{{thing1.DATA}}\n{{thing1.DATA}}") == ["date2", "thing1"])
        #expect(TemplateLibrary.keywords(in: "no placeholders {{ broken") == [])
    }

    @Test("template_list and data[] parse into one shape; an answer without the list is not a library")
    func shapes() throws {
        let template = try JSONValue(
            parsing: Array(
                #"{"template_list":[{"template_id":"T1","title":"发货","primary_industry":"","deputy_industry":"","content":"{{thing1.DATA}}","example":""}]}"#
                    .utf8))
        let subscribe = try JSONValue(
            parsing: Array(
                #"{"errcode":0,"errmsg":"ok","data":[{"priTmplId":"S1","title":"会议","content":"{{date2.DATA}}\n","example":"","type":2,"keywordEnumValueList":[]}]}"#
                    .utf8))
        let one = try #require(TemplateLibrary.parse(template.object ?? [:], family: .template))
        #expect(one.templates["T1"] == TemplateLibrary.Template(id: "T1", title: "发货", keywords: ["thing1"]))
        let two = try #require(TemplateLibrary.parse(subscribe.object ?? [:], family: .subscribe))
        #expect(two.templates["S1"]?.keywords == ["date2"])
        #expect(TemplateLibrary.parse(["errcode": .number("0")], family: .template) == nil)
    }

    @Test("the client reads the simulator's libraries; without one configured the simulator answers 48001")
    func readFromTheSimulator() async throws {
        var configuration = SimulatorConfiguration()
        configuration.templates = [
            SimulatedTemplate(id: "T1", title: "发货", content: "{{first.DATA}}\n单号：{{character_string1.DATA}}"),
            SimulatedTemplate(id: "S1", title: "会议", content: "时间:{{time1.DATA}}\n地点:{{thing2.DATA}}", subscribe: true),
        ]
        try await SimulatorFixture.with(configuration) { fixture in
            let client = fixture.client()
            let template = try await client.templateLibrary(.template, account: "demo")
            #expect(template.templates.keys.sorted() == ["T1"])
            #expect(template.templates["T1"]?.keywords == ["first", "character_string1"])
            let subscribe = try await client.templateLibrary(.subscribe, account: "demo")
            #expect(subscribe.templates["S1"]?.keywords == ["time1", "thing2"])
        }
        try await SimulatorFixture.with { fixture in
            await #expect(throws: WeChatError.self) { try await fixture.client().templateLibrary(.template, account: "demo") }
            do throws(WeChatError) { _ = try await fixture.client().templateLibrary(.subscribe, account: "demo") } catch {
                #expect(error.errcode == 48001)
            }
        }
    }

    /// Values and what WeChat's tables say of them, for subscribe messages.
    static let table: [(key: String, value: String, accepted: Bool)] = [
        ("thing1", "二十个字以内的事物描述", true), ("thing1", String(repeating: "长", count: 21), false),
        ("number2", "12.5", true), ("number2", "12a", false), ("letter3", "abcXYZ", true), ("letter3", "abc1", false),
        ("symbol4", "+-*/", true), ("symbol4", "++++++", false), ("character_string5", "SF-1234567", true),
        ("character_string5", "单号123", false), ("phone_number6", "+86-0766-66888866", true), ("phone_number6", "call me", false),
        ("car_number7", "粤A8Z888挂", true), ("car_number7", "粤A8Z8888挂", false), ("name8", "张三", true),
        ("name8", "欧阳娜娜欧阳娜娜欧阳娜", false), ("phrase9", "已发货", true), ("phrase9", "shipped", false),
        ("amount10", "¥39.80", true), ("amount10", "39.8元", true), ("amount10", "12345678901", false), ("amount10", "free", false),
    ]

    @Test("wxpush's FieldLimits and the simulator's own rules, written apart, agree on WeChat's table (sent as subscribe messages)")
    func fieldLimitsAgreeWithTheSimulator() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            for (index, row) in Self.table.enumerated() {
                #expect((FieldLimits.violation(key: row.key, value: row.value) == nil) == row.accepted, "wxpush on \(row)")
                let message = OutgoingMessage(
                    kind: .subscribe, toUser: "o-\(index)", templateID: "S", clientMsgID: "c-\(index)",
                    data: [row.key: FieldValue(value: row.value)])
                let result = await client.send(message, account: "demo")
                #expect((result.errcode == 0) == row.accepted, "the simulator on \(row): \(result.errcode) \(result.errmsg)")
            }
        }
    }
}
