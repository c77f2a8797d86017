import Foundation
import Harness
import Kafka
import Testing
import WeChat

@testable import Dispatcher

/// Seeded, bounded fuzzing of every parser that reads what others wrote: request records, the
/// internal topics' records, callback XML and queries. The property: no crash, no hang, and each
/// input is either read or refused (a request with a named problem). A crash ends the test run,
/// so a green run is the proof; the seed makes any finding reproducible.
@Suite("Fuzz: every input surface, seeded")
struct FuzzTests {
    static let seed: UInt64 = 0x5EED_2026_1207

    /// Runs `count` mutations of the seeds through `read`; prints how many were read and refused.
    static func fuzz(_ surface: String, seeds: [String], count: Int, salt: UInt64, _ read: ([UInt8]) -> Bool) {
        var mutator = InputMutator(seed: seed ^ salt)
        var accepted = 0
        for index in 0..<count {
            let seed = Array(seeds[index % seeds.count].utf8)
            if read(index < seeds.count ? seed : mutator.mutate(seed)) { accepted += 1 }
        }
        print(
            "fuzz | \(surface) | \(count) inputs | read \(accepted), refused \(count - accepted) | 0 crashes (seed \(String(seed, radix: 16)))"
        )
    }

    @Test("request records: decoded or refused with a named problem")
    func requestRecords() {
        let seeds = [
            #"{"v":1,"id":"e1","type":"order.shipped","to":"o1","data":{"order":{"id":"1","carrier":"SF"}},"expires_at":"2026-12-08T00:00:00Z"}"#,
            #"{"v":1,"id":"e2","app":"default","to":"o2","message":{"kind":"template","template_id":"T","data":{"k":{"value":"v"}}}}"#,
            #"[{"v":1,"id":"e3","type":"t","to":"o","data":{}}]"#,
        ]
        Self.fuzz("request records", seeds: seeds, count: 30_000, salt: 1) { bytes in
            switch RequestEvent.decode(bytes) {
            case .success: return true
            case .failure(let invalid):
                #expect(!invalid.problem.isEmpty)
                return false
            }
        }
    }

    @Test("demand records: range-checked or skipped")
    func demandRecords() {
        let seeds = [
            #"{"account":"default","instance":"host-1a2b3c","incarnation":"1a2b3c","started":1765000000000,"demand":120,"at":1765000000500,"share_ppm":333333}"#
        ]
        Self.fuzz("demand records", seeds: seeds, count: 20_000, salt: 2) { bytes in
            guard let (_, _, entry) = DemandExchange.decode(bytes) else { return false }
            #expect((0...Int(DemandExchange.maxDemand)).contains(entry.demand) && (0...1).contains(entry.share))
            return true
        }
    }

    @Test("progress records and commit metadata: decoded within bounds, or nothing")
    func progressRecords() {
        let seeds = ["1200 wx1:1,3-7,12|s4410", "0 wx1:", "99 wx1:1-1000|s0"]
        Self.fuzz("progress records", seeds: seeds, count: 30_000, salt: 3) { bytes in
            guard let point = ProgressLog.decode(bytes) else { return false }
            let done = CommitMetadata.decode(point.metadata, committed: point.offset)
            _ = CommitMetadata.sentLogFloor(point.metadata)
            #expect(done.count <= CommitMetadata.maxDecodedOffsets)
            #expect(done.allSatisfy { $0 > point.offset })
            return true
        }
    }

    @Test("sent-log and msgid records: read within bounds, or skipped")
    func sentAndMsgidRecords() {
        let source = TopicPartition(topic: "wxpush.requests", partition: 2)
        Self.fuzz(
            "sent-log records", seeds: ["wxpush.requests/2/1234 3141592653589793\torder.shipped\toXYZ", "wxpush.requests/2/0 1\t\t"],
            count: 15_000, salt: 4
        ) { bytes in
            let message = KafkaMessage(topic: "wxpush.sent", partition: 2, offset: 0, key: Array("e1".utf8), value: bytes)
            return SentLog.decode(message, source: source) != nil
        }
        Self.fuzz("msgid records", seeds: [#"{"id":"e1","to":"o1","app":"default"}"#], count: 15_000, salt: 5) { bytes in
            let message = KafkaMessage(topic: "wxpush.msgids", partition: 0, offset: 0, key: Array("3141592653589793".utf8), value: bytes)
            let receipt = KafkaMessage(topic: "wxpush.msgids", partition: 0, offset: 0, key: bytes, value: [])
            _ = MsgidRecord.receiptKey(receipt)
            return MsgidRecord.decode(message) != nil
        }
    }

    @Test("callback XML and queries, plaintext and safe mode: opened or refused with a reason")
    func callbacks() throws {
        let now = Date()
        let receipt = DeliveryReceipt(openid: "oUser", msgid: 77, createTime: 1_765_000_000, status: .delivered, toUserName: "gh_1")
        let plain = CallbackAuthenticator(token: "tok", cipher: nil)
        let safe = CallbackAuthenticator(
            token: "tok", cipher: try CallbackCipher(encodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", appID: "wxapp"))
        let subscribe =
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List><MsgID>1</MsgID><ErrorCode>0</ErrorCode></List><List><MsgID>2</MsgID><ErrorCode>43101</ErrorCode></List></SubscribeMsgSentEvent></xml>"
        Self.fuzz("callback XML", seeds: [receipt.templateFinishedMessage.xml, subscribe], count: 20_000, salt: 6) { bytes in
            guard let message = CallbackMessage(xml: String(decoding: bytes, as: UTF8.self)) else { return false }
            return !DeliveryReceipt.all(in: message).isEmpty
        }
        for (mode, authenticator) in [("plaintext", plain), ("safe mode", safe)] {
            let sealed = authenticator.seal(receipt.templateFinishedMessage, now: now)
            let query = sealed.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            var mutator = InputMutator(seed: Self.seed ^ 7)
            var opened = 0
            let count = 10_000
            for index in 0..<count {
                // Half the inputs change the body, half the query (as a string of key=value pairs).
                let body = index % 2 == 0 ? String(decoding: mutator.mutate(Array(sealed.body.utf8)), as: UTF8.self) : sealed.body
                let text = index % 2 == 1 ? String(decoding: mutator.mutate(Array(query.utf8)), as: UTF8.self) : query
                var fuzzed: [String: String] = [:]
                for pair in text.split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    fuzzed[String(parts[0])] = parts.count == 2 ? String(parts[1]) : ""
                }
                do {
                    _ = try authenticator.open(fuzzed, body: body, now: now)
                    opened += 1
                } catch {
                    #expect(!"\(error)".isEmpty)
                }
            }
            print("fuzz | callback query and body (\(mode)) | \(count) inputs | opened \(opened), refused \(count - opened) | 0 crashes")
        }
    }
}
