import Foundation
import Harness
import Testing

@Suite("One message per id: a request id sent within dispatcher.dedup_window is answered, not sent again")
struct DedupTests {
    static func bizsend(_ id: String, to openid: String) -> SampleEvents.Event {
        let json =
            #"{"v":1,"id":"\#(id)","to":"\#(openid)","message":{"kind":"bizsend","template_id":"SUBSCRIBE_RAW","data":{"thing1":{"value":"parcel"}}}}"#
        return SampleEvents.Event(id: id, openid: openid, bytes: Array(json.utf8))
    }

    @Test(
        "the same id in later records (a subscribe kind, which WeChat never de-duplicates): one WeChat call, every outcome sent, the later ones already_sent with the first msgid, on another instance too"
    )
    func sameIDInLaterRecords() async throws {
        let run = try await ChaosRun.start("dedup", events: 0, openids: 1)
        func instance(_ name: String) throws -> WXPushProcess {
            try run.instance(try run.configuration(RunOptions(inFlight: 8, instanceID: name)))
        }
        @Sendable func outcomes(_ id: String) -> [(status: String, code: String?, msgid: Int64?)] {
            (run.collector.all[id] ?? []).map { ($0.outcome.status, $0.outcome.reasonCode, $0.outcome.msgid) }
        }
        let first = try instance("dedup-a")
        try await run.produce([Self.bizsend("coupon-7", to: "o-dup"), Self.bizsend("coupon-8", to: "o-other")])
        try await eventually("the first send", timeout: .seconds(60)) { outcomes("coupon-7").count == 1 }
        // A producer's retry, twice, and a new request to the same user.
        try await run.produce([Self.bizsend("coupon-7", to: "o-dup"), Self.bizsend("coupon-7", to: "o-dup")])
        try await eventually("three outcomes", timeout: .seconds(60)) { outcomes("coupon-7").count == 3 }
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(30)) == 0)

        let second = try instance("dedup-b")
        try await run.produce([Self.bizsend("coupon-7", to: "o-dup")])
        try await eventually("four outcomes", timeout: .seconds(60)) { outcomes("coupon-7").count == 4 }
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)

        let all = outcomes("coupon-7")
        #expect(all.allSatisfy { $0.status == "sent" })
        #expect(all.first?.code == nil && all.dropFirst().allSatisfy { $0.code == "already_sent" }, "\(all)")
        #expect(Set(all.map(\.msgid)).count == 1, "every outcome names the one send")
        let delivered = try await run.pipeline.wechatStats().messagesByOpenID
        #expect(delivered["o-dup"]?.count == 1, "one WeChat call")
        #expect(delivered["o-other"]?.count == 1)
        _ = await run.finish()
    }
}
