import Foundation
import Testing
import WeChat

@Suite("OutgoingMessage.jsonBody")
struct OutgoingMessageJSONTests {
    private func decoded(_ message: OutgoingMessage) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(message.jsonBody())) as? [String: Any])
    }

    @Test func templateMessageCarriesUrlMiniProgramColourAndClientMsgID() throws {
        let message = OutgoingMessage(
            kind: .template, toUser: "o1", templateID: "TID", url: "https://shop.example/o/1",
            miniProgram: MiniProgramLink(appID: "wxmini", pagePath: "index?foo=bar"),
            page: "ignored-for-templates", clientMsgID: "c1",
            data: ["keyword1": FieldValue(value: "已发货", color: "#173177")]
        )
        let body = String(decoding: message.jsonBody(), as: UTF8.self)
        #expect(
            body == ##"{"client_msg_id":"c1","data":{"keyword1":{"color":"#173177","value":"已发货"}},"##
                + ##""miniprogram":{"appid":"wxmini","pagepath":"index?foo=bar"},"template_id":"TID","##
                + ##""touser":"o1","url":"https://shop.example/o/1"}"##)
    }

    @Test func nilFieldsAreOmitted() throws {
        let message = OutgoingMessage(
            kind: .template, toUser: "o1", templateID: "TID", clientMsgID: "c1",
            data: ["keyword1": FieldValue(value: "x")])
        let json = try decoded(message)
        #expect(Set(json.keys) == ["touser", "template_id", "client_msg_id", "data"])
        #expect((json["data"] as? [String: [String: String]]) == ["keyword1": ["value": "x"]])
    }

    @Test func bizsendCarriesPageAndMiniProgram() throws {
        let message = OutgoingMessage(
            kind: .bizsend, toUser: "o1", templateID: "TID", url: "https://not-for-bizsend",
            miniProgram: MiniProgramLink(appID: "wxmini", pagePath: "p"), page: "https://shop.example",
            clientMsgID: "c1", data: ["thing1": FieldValue(value: "书", color: "#FF0000")])
        let json = try decoded(message)
        #expect(Set(json.keys) == ["touser", "template_id", "page", "miniprogram", "client_msg_id", "data"])
        #expect(json["page"] as? String == "https://shop.example")
        #expect((json["data"] as? [String: [String: String]]) == ["thing1": ["value": "书"]])
    }

    @Test func miniProgramSubscribeCarriesStateAndLang() throws {
        let message = OutgoingMessage(
            kind: .subscribe, toUser: "o1", templateID: "TID", page: "pages/order?id=1",
            miniProgramState: "formal", lang: "zh_CN", clientMsgID: "c1",
            data: ["thing1": FieldValue(value: "书")])
        let json = try decoded(message)
        #expect(
            Set(json.keys) == ["touser", "template_id", "page", "miniprogram_state", "lang", "client_msg_id", "data"])
        #expect(json["miniprogram_state"] as? String == "formal")
        #expect(json["lang"] as? String == "zh_CN")
    }

    @Test func messageKindsMapToTheirPaths() {
        #expect(MessageKind.template.path == "/cgi-bin/message/template/send")
        #expect(MessageKind.bizsend.path == "/cgi-bin/message/subscribe/bizsend")
        #expect(MessageKind.subscribe.path == "/cgi-bin/message/subscribe/send")
    }
}
