import Foundation
import Harness
import Simulator
import Testing

@Suite("Per-recipient throttles end to end", .serialized)
struct ThrottleTests {
    static func rules(_ throttle: String) -> String {
        """
        rules:
          order.shipped:
            kind: template
            template_id: TEMPLATE_ORDER_SHIPPED
            throttle: \(throttle)
            data:
              keyword1: "{{order.id}}"
        """
    }

    @Test(
        "reject: 2 per hour and recipient reach WeChat, the rest is rejected (recipient_throttled); a restart rebuilds the count from the sent log"
    )
    func rejectAndRebuild() async throws {
        let run = try await ChaosRun.start("throttle (2/1h, reject)", events: 50, openids: 10)
        let config = try run.configuration(RunOptions(inFlight: 8), rules: Self.rules("{ per_recipient: 2/1h, on_excess: reject }"))
        let first = try run.instance(config)
        try await run.produce()
        try await run.waitFor(ids: 50, timeout: .seconds(60), sampling: [first])
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(30)) == 0)
        // A new instance: one more per recipient, all over the count it rebuilt from the sent log.
        let more = run.events.prefix(10).map { event in
            let id = event.id + "-again"
            let json = #"{"v":1,"id":"\#(id)","type":"order.shipped","to":"\#(event.openid)","data":{"order":{"id":"1"}}}"#
            return SampleEvents.Event(id: id, openid: event.openid, bytes: Array(json.utf8))
        }
        let second = try run.instance(config)
        try await run.produce(more)
        try await run.waitFor(ids: 60, timeout: .seconds(60), sampling: [second])
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
        let stats = run.pipeline.simulator.stats
        let outcomes = run.collector.all.values.compactMap(\.first?.outcome)
        _ = await run.finish()
        #expect(stats.messagesByOpenID.count == 10)
        #expect(stats.messagesByOpenID.values.allSatisfy { $0.count == 2 }, "\(stats.messagesByOpenID.mapValues(\.count))")
        #expect(outcomes.filter { $0.status == "sent" }.count == 20)
        let throttled = outcomes.filter { $0.status == "rejected" && $0.reason == "recipient_throttled: 2 per 1h for order.shipped" }
        #expect(throttled.count == 40)
    }

    @Test("delay: 1 per 2 s and recipient; each recipient's messages reach WeChat at least 2 s apart, none rejected")
    func delay() async throws {
        let run = try await ChaosRun.start("throttle (1/2s, delay)", events: 6, openids: 2)
        let config = try run.configuration(RunOptions(inFlight: 8), rules: Self.rules("{ per_recipient: 1/2s, on_excess: delay }"))
        let child = try run.instance(config)
        try await run.produce()
        try await run.waitFor(ids: 6, timeout: .seconds(60), sampling: [child])
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let stats = run.pipeline.simulator.stats
        let row = await run.finish()
        #expect(row.byStatus["sent"] == 6)
        for messages in stats.messagesByOpenID.values {
            #expect(messages.count == 3)
            let times = messages.map(\.receivedAt.timeIntervalSince1970).sorted()
            for (earlier, later) in zip(times, times.dropFirst()) { #expect(later - earlier >= 1.9, "\(times)") }
        }
    }
}
