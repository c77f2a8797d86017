import Foundation
import Kafka
import Testing
import WeChat

@testable import Dispatcher

@Suite("Recipients: what WeChat says about a user, and the suppressions it makes")
struct RecipientTests {
    let at = Date(timeIntervalSince1970: 1_795_338_000)

    func callback(_ fields: [String: String], items: [[String: String]] = []) -> CallbackMessage {
        CallbackMessage(
            fields: ["MsgType": "event", "FromUserName": "oUser", "CreateTime": "1795338000"].merging(fields) { $1 }, items: items)
    }

    @Test("a record survives the topic: key app/openid/scope, every field back")
    func roundTrip() throws {
        let record = RecipientRecord(
            app: "shop", openid: "oUser", scope: .template("TID-1"), status: .suppressed, source: "errcode_43101", at: at)
        let kafka = record.record(topic: "wxpush.recipients")
        #expect(String(decoding: kafka.key ?? [], as: UTF8.self) == "shop/oUser/template:TID-1")
        #expect(RecipientRecord.decode(kafka.value) == record)
        #expect(RecipientRecord.decode(Array(#"{"kind":"recipient","app":"a"}"#.utf8)) == nil)
        #expect(RecipientRecord.decode(Array(repeating: UInt8(ascii: " "), count: 2_000)) == nil, "oversized: not ours")
    }

    @Test("callbacks: unfollow suppresses and follow lifts the Official Account; the subscribe pop-up scopes to its templates")
    func callbackSignals() {
        #expect(RecipientRecord.all(in: callback(["Event": "unsubscribe"]), app: "a").map(\.status) == [.suppressed])
        #expect(RecipientRecord.all(in: callback(["Event": "subscribe"]), app: "a").map(\.status) == [.lifted])
        let popup = callback(
            ["Event": "subscribe_msg_popup_event"],
            items: [
                ["TemplateId": "T1", "SubscribeStatusString": "reject"], ["TemplateId": "T2", "SubscribeStatusString": "accept"],
                ["TemplateId": "T3", "SubscribeStatusString": "unknown"],
            ])
        let records = RecipientRecord.all(in: popup, app: "a")
        #expect(records.map(\.scope) == [.template("T1"), .template("T2")])
        #expect(records.map(\.status) == [.suppressed, .lifted])
        #expect(records.first?.at == at)
        let blocked = RecipientRecord.all(
            in: callback(["Event": "TEMPLATESENDJOBFINISH", "Status": "failed:user block", "MsgID": "1"]), app: "a")
        #expect(blocked.map(\.source) == ["user_blocked"])
        #expect(RecipientRecord.all(in: callback(["Event": "TEMPLATESENDJOBFINISH", "Status": "success", "MsgID": "1"]), app: "a").isEmpty)
        #expect(RecipientRecord.all(in: CallbackMessage(fields: ["MsgType": "text", "FromUserName": "o"]), app: "a").isEmpty)
    }

    @Test("outcomes: 43004 suppresses the Official Account (not a mini program), 43101 the template; nothing else says anything")
    func outcomeSignals() {
        func outcome(_ errcode: Int, _ kind: MessageKind) -> Outcome {
            var outcome = Outcome(
                id: "e", app: "a", to: "oUser", type: "t", status: .rejected, templateID: "TID", msgid: nil, errcode: errcode, errmsg: "",
                reason: "wechat_errcode", attempts: 1, source: TopicPartition(topic: "r", partition: 0), offset: 0, receivedAt: at,
                completedAt: at, needsDeadLetter: false)
            outcome.messageKind = kind
            return outcome
        }
        #expect(RecipientRecord.from(outcome(43004, .template))?.scope == .officialAccount)
        #expect(RecipientRecord.from(outcome(43004, .bizsend))?.source == "errcode_43004")
        #expect(RecipientRecord.from(outcome(43004, .subscribe)) == nil)
        #expect(RecipientRecord.from(outcome(43101, .subscribe))?.scope == .template("TID"))
        #expect(RecipientRecord.from(outcome(40003, .template)) == nil)
    }

    @Test(
        "suppressions: an Official Account one stops template and bizsend, not a mini program's; a template one only that template; a lift ends it"
    )
    func scopes() {
        let suppressions = Suppressions()
        suppressions.apply(
            RecipientRecord(app: "a", openid: "o1", scope: .officialAccount, status: .suppressed, source: "unsubscribe", at: at))
        suppressions.apply(
            RecipientRecord(app: "a", openid: "o2", scope: .template("T"), status: .suppressed, source: "errcode_43101", at: at))
        #expect(suppressions.suppression(app: "a", openid: "o1", kind: .template, templateID: "X")?.source == "unsubscribe")
        #expect(suppressions.suppression(app: "a", openid: "o1", kind: .bizsend, templateID: "X") != nil)
        #expect(suppressions.suppression(app: "a", openid: "o1", kind: .subscribe, templateID: "X") == nil)
        #expect(suppressions.suppression(app: "b", openid: "o1", kind: .template, templateID: "X") == nil, "per account")
        #expect(suppressions.suppression(app: "a", openid: "o2", kind: .subscribe, templateID: "T") != nil)
        #expect(suppressions.suppression(app: "a", openid: "o2", kind: .subscribe, templateID: "U") == nil)
        suppressions.apply(RecipientRecord(app: "a", openid: "o1", scope: .officialAccount, status: .lifted, source: "subscribe", at: at))
        #expect(suppressions.suppression(app: "a", openid: "o1", kind: .template, templateID: "X") == nil)
        #expect(suppressions.count == 1)
    }

    @Test("the newest word wins by its time: a late 43004 or a repeated unfollow does not undo a later follow")
    func newestByTime() {
        let suppressions = Suppressions()
        func apply(_ status: RecipientRecord.Status, _ source: String, at seconds: Double) {
            suppressions.apply(
                RecipientRecord(
                    app: "a", openid: "o", scope: .officialAccount, status: status, source: source,
                    at: at.addingTimeInterval(seconds)))
        }
        apply(.lifted, "subscribe", at: 10)
        apply(.suppressed, "errcode_43004", at: 5)
        #expect(suppressions.suppression(app: "a", openid: "o", kind: .template, templateID: "T") == nil)
        apply(.suppressed, "unsubscribe", at: 20)
        #expect(suppressions.suppression(app: "a", openid: "o", kind: .template, templateID: "T")?.source == "unsubscribe")
    }

    @Test("a key suppressed, lifted and suppressed again keeps its newest place: eviction takes the oldest key, not it")
    func evictionByNewestPlace() {
        let suppressions = Suppressions(capacity: 2)
        func apply(_ openid: String, _ status: RecipientRecord.Status, at seconds: Double) {
            suppressions.apply(
                RecipientRecord(
                    app: "a", openid: openid, scope: .officialAccount, status: status, source: "s", at: at.addingTimeInterval(seconds)))
        }
        apply("o1", .suppressed, at: 1)
        apply("o2", .suppressed, at: 2)
        apply("o1", .lifted, at: 3)
        apply("o1", .suppressed, at: 4)
        apply("o3", .suppressed, at: 5)
        #expect(suppressions.suppression(app: "a", openid: "o1", kind: .template, templateID: "T") != nil, "o1 was written last but one")
        #expect(suppressions.suppression(app: "a", openid: "o2", kind: .template, templateID: "T") == nil, "o2 is the oldest")
        #expect(suppressions.forgotten == 1)
    }

    @Test("bounded: past its capacity the oldest suppressions are forgotten and counted")
    func bounded() {
        let suppressions = Suppressions(capacity: 3)
        for index in 0..<5 {
            suppressions.apply(
                RecipientRecord(app: "a", openid: "o\(index)", scope: .officialAccount, status: .suppressed, source: "unsubscribe", at: at))
        }
        #expect(suppressions.count == 3)
        #expect(suppressions.forgotten == 2)
        #expect(suppressions.suppression(app: "a", openid: "o0", kind: .template, templateID: "T") == nil)
        #expect(suppressions.suppression(app: "a", openid: "o4", kind: .template, templateID: "T") != nil)
    }
}
