import Testing
import WeChat

@Suite("ClientMessageID")
struct ClientMessageIDTests {
    @Test func isStable32LowercaseHex() {
        let id = ClientMessageID.derive(fromEventID: "order-8812-shipped")
        #expect(id == ClientMessageID.derive(fromEventID: "order-8812-shipped"))
        #expect(id.count == 32)
        #expect(id.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func isTheSHA256Prefix() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        #expect(ClientMessageID.derive(fromEventID: "abc") == "ba7816bf8f01cfea414140de5dae2223")
    }

    @Test func differsPerEventID() {
        let ids = Set((0..<1000).map { ClientMessageID.derive(fromEventID: "event-\($0)") })
        #expect(ids.count == 1000)
        #expect(ClientMessageID.derive(fromEventID: "订单-1").count == 32)
    }
}
