import Foundation
import Testing
import WeChat

/// Vectors from WeChat's own sample code (the Official Account "消息加解密" sample and the WeCom
/// callback sample, which uses the same scheme with the CorpId as the AppId), then round trips and
/// every refusal.
@Suite("Callback signature and safe-mode crypto")
struct CallbackCryptoTests {
    static let weComToken = "QDG6eK"
    static let weComKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
    static let weComReceiver = "wx5823bf96d3bd56c7"
    static let weComEncrypt =
        "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="

    @Test("the Official Account sample encrypts \"我是中文abcd123\" with random aaaabbbbccccdddd to the published ciphertext")
    func officialAccountEncryptVector() throws {
        let cipher = try CallbackCipher(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", appID: "wxb11529c136998cb6")
        let encrypted = cipher.encrypt("我是中文abcd123", random: Array("aaaabbbbccccdddd".utf8))
        #expect(encrypted == "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==")
        #expect(try cipher.decrypt(encrypted) == "我是中文abcd123")
    }

    @Test("the WeCom sample message: msg_signature 477715d1… matches and the body decrypts for its receiver")
    func weComMessageVector() throws {
        #expect(
            CallbackSignature.make([Self.weComToken, "1409659813", "1372623149", Self.weComEncrypt])
                == "477715d11cdb4164915debcba66cb864d751f3e6")
        let authenticator = CallbackAuthenticator(
            token: Self.weComToken, cipher: try CallbackCipher(encodingAESKey: Self.weComKey, appID: Self.weComReceiver), maxSkew: nil)
        let message = try authenticator.open(
            [
                "encrypt_type": "aes", "msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
                "nonce": "1372623149",
            ],
            body:
                "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[\(Self.weComEncrypt)]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
        )
        #expect(message["FromUserName"] == "mycreate")
        #expect(message["Content"] == "hello")
        #expect(message["MsgId"] == "4561255354251345929")
    }

    @Test("the WeCom URL-verification vector: signature 5c45ff5e… over token, timestamp, nonce and echostr")
    func weComVerificationSignature() {
        let echostr = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
        #expect(
            CallbackSignature.make([Self.weComToken, "1409659589", "263014780", echostr]) == "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3")
        #expect(
            CallbackSignature.matches("5C45FF5E21C57E6AD56BAC8758B79B1D9AC89FD3", [Self.weComToken, "1409659589", "263014780", echostr]))
    }

    static let receipt = DeliveryReceipt(
        openid: "o-user-1", msgid: 200163836, createTime: 1395658920, status: .userBlocked, toUserName: "gh_x")

    @Test("a sealed receipt opens to the same receipt, in plaintext and safe mode; GET verification answers echostr")
    func roundTrips() throws {
        let now = Date()
        for cipher in [nil, try CallbackCipher(encodingAESKey: Self.weComKey, appID: "wxapp")] {
            let authenticator = CallbackAuthenticator(token: "tok", cipher: cipher)
            let (query, body) = authenticator.seal(Self.receipt.templateFinishedMessage, now: now)
            #expect(cipher == nil || !body.contains("o-user-1"), "safe mode must not carry the openid in clear")
            let opened = try authenticator.open(query, body: body, now: now)
            #expect(DeliveryReceipt(opened) == Self.receipt)
            var get = query
            get["echostr"] = "12345"
            #expect(try authenticator.verifyURL(get, now: now) == "12345")
        }
    }

    @Test("tampered body, wrong AppId, wrong or stale signature, downgrade to plaintext: all refused")
    func refusals() throws {
        let now = Date()
        let cipher = try CallbackCipher(encodingAESKey: Self.weComKey, appID: "wxapp")
        let authenticator = CallbackAuthenticator(token: "tok", cipher: cipher)
        let (query, body) = authenticator.seal(Self.receipt.templateFinishedMessage, now: now)
        let encrypted = try #require(CallbackMessage(xml: body)?["Encrypt"])
        // One character of the ciphertext changed, signature recomputed: the padding or the AppId breaks.
        let flipped = String(encrypted.prefix(10)) + (encrypted.dropFirst(10).first == "A" ? "B" : "A") + encrypted.dropFirst(11)
        var resigned = query
        resigned["msg_signature"] = CallbackSignature.make(["tok", query["timestamp"]!, query["nonce"]!, flipped])
        #expect(throws: CallbackAuthenticator.Refusal.self) {
            try authenticator.open(resigned, body: "<xml><Encrypt><![CDATA[\(flipped)]]></Encrypt></xml>", now: now)
        }
        // Tampered without re-signing.
        #expect(throws: CallbackAuthenticator.Refusal.badSignature) {
            try authenticator.open(query, body: "<xml><Encrypt><![CDATA[\(flipped)]]></Encrypt></xml>", now: now)
        }
        // Sealed for another AppId with the same key.
        let other = CallbackAuthenticator(token: "tok", cipher: try CallbackCipher(encodingAESKey: Self.weComKey, appID: "wxother"))
        let (otherQuery, otherBody) = other.seal(Self.receipt.templateFinishedMessage, now: now)
        #expect(throws: CallbackAuthenticator.Refusal.cipher(.wrongAppID)) { try authenticator.open(otherQuery, body: otherBody, now: now) }
        // Another token.
        let forger = CallbackAuthenticator(token: "not-the-token", cipher: cipher)
        let (forgedQuery, forgedBody) = forger.seal(Self.receipt.templateFinishedMessage, now: now)
        #expect(throws: CallbackAuthenticator.Refusal.badSignature) { try authenticator.open(forgedQuery, body: forgedBody, now: now) }
        // A replay ten minutes later.
        #expect(throws: CallbackAuthenticator.Refusal.stale) { try authenticator.open(query, body: body, now: now + 600) }
        // A plaintext callback to a safe-mode account.
        let plain = CallbackAuthenticator(token: "tok", cipher: nil).seal(Self.receipt.templateFinishedMessage, now: now)
        #expect(throws: CallbackAuthenticator.Refusal.encryptedOnly) { try authenticator.open(plain.query, body: plain.body, now: now) }
        #expect(throws: CallbackAuthenticator.Refusal.malformed) { try authenticator.open(query, body: "not xml", now: now) }
    }

    @Test("receipt statuses as WeChat spells them, and a subscribe message's sent event (its List flattened)")
    func receiptParsing() throws {
        for (status, expected) in [
            ("success", DeliveryReceipt.Status.delivered), ("failed:user block", .userBlocked), ("failed: system failed", .systemFailed),
        ] {
            let xml =
                "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[OPENID]]></FromUserName><CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[\(status)]]></Status></xml>"
            let message = try #require(CallbackMessage(xml: xml))
            let receipt = try #require(DeliveryReceipt(message))
            #expect(
                receipt == DeliveryReceipt(openid: "OPENID", msgid: 200163836, createTime: 1395658920, status: expected, toUserName: "gh_1")
            )
        }
        let subscribe =
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[OPENID]]></FromUserName><CreateTime>1620963428</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List><TemplateId><![CDATA[T]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent></xml>"
        let message = try #require(CallbackMessage(xml: subscribe))
        let receipt = try #require(DeliveryReceipt(message))
        #expect(receipt.msgid == 1700827132819554304)
        #expect(receipt.status == .delivered)
        let text = try #require(CallbackMessage(xml: "<xml><MsgType>text</MsgType><Content>hi</Content></xml>"))
        #expect(DeliveryReceipt(text) == nil)
        #expect(CallbackMessage(xml: "<xml><A>unclosed</xml>") == nil)
    }

    @Test("a subscribe event with two <List> items gives two receipts (only the last was kept)")
    func everyListItem() throws {
        let xml =
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[OPENID]]></FromUserName><CreateTime>1620963428</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List><TemplateId><![CDATA[T1]]></TemplateId><MsgID>11</MsgID><ErrorCode>0</ErrorCode></List><List><TemplateId><![CDATA[T2]]></TemplateId><MsgID>12</MsgID><ErrorCode>43101</ErrorCode></List></SubscribeMsgSentEvent></xml>"
        let receipts = DeliveryReceipt.all(in: try #require(CallbackMessage(xml: xml)))
        #expect(receipts.map(\.msgid) == [11, 12])
        #expect(receipts.map(\.status) == [.delivered, .userBlocked])
    }

    @Test("plaintext mode: a captured query with another body is refused as a replay; the same body again is accepted")
    func plaintextReplay() throws {
        let now = Date()
        let authenticator = CallbackAuthenticator(token: "tok", cipher: nil)
        let sealed = authenticator.seal(Self.receipt.templateFinishedMessage, now: now)
        _ = try authenticator.open(sealed.query, body: sealed.body, now: now)
        _ = try authenticator.open(sealed.query, body: sealed.body, now: now.addingTimeInterval(5))
        var forged = Self.receipt
        forged.openid = "o-someone-else"
        #expect(throws: CallbackAuthenticator.Refusal.replayed) {
            try authenticator.open(sealed.query, body: forged.templateFinishedMessage.xml, now: now.addingTimeInterval(10))
        }
    }
}
