import Dispatcher
import Foundation
import Harness
import Kafka
import Testing

@Suite("Deferred sends: not_before and quiet hours through the delay topics, other recipients unaffected")
struct DeferredSendTests {
    static func event(_ id: String, to openid: String, type: String = "order.shipped", extra: String = "") -> SampleEvents.Event {
        let json = #"{"v":1,"id":"\#(id)","to":"\#(openid)","type":"\#(type)","data":{"order":{"id":"\#(id)"}}\#(extra)}"#
        return SampleEvents.Event(id: id, openid: openid, bytes: Array(json.utf8))
    }

    @Test(
        "wxpush run: not_before 5 s ahead and a rule in its quiet hours reach WeChat no earlier, through the delay tiers; 40 other recipients go first"
    )
    func notBeforeAndQuietHours() async throws {
        var settings = DispatcherSettings()
        settings.delays = DelayTiers(prefix: "wxpush.delay", tiers: [.seconds(1), .seconds(3)])
        let run = try await ChaosRun.start("deferred", events: 0, openids: 1, settings: settings, delays: true)
        let utc = TimeZone(identifier: "UTC")!
        func clock(_ date: Date) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = utc
            let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
            return String(format: "%02d:%02d:%02d", parts.hour!, parts.minute!, parts.second!)
        }
        // Quiet from an hour ago until 20 s from now, in whole seconds: longer than the child
        // takes to start on a loaded machine, so its request is produced inside the span.
        let start = Date()
        let end = Date(timeIntervalSince1970: start.addingTimeInterval(20).timeIntervalSince1970.rounded(.up))
        let rules =
            orderShippedRules + """

                  night.notice:
                    kind: template
                    template_id: TEMPLATE_NIGHT
                    data: { keyword1: "{{order.id}}" }
                    quiet_hours: { from: "\(clock(start.addingTimeInterval(-3600)))", to: "\(clock(end))", zone: UTC }
                """
        let child = try run.instance(try run.configuration(RunOptions(inFlight: 4, instanceID: "deferred-a"), rules: rules))
        try await run.produce([Self.event("warm-up", to: "o-warm")])
        try await eventually("the child sends", timeout: .seconds(60)) { run.collector.all.count == 1 }
        let notBefore = Date().addingTimeInterval(5)
        let others = (0..<40).map { Self.event("now-\($0)", to: "o-now-\($0)") }
        let stamp = Timestamp.format(notBefore)
        try await run.produce(
            [
                Self.event("later", to: "o-later", extra: #","not_before":"\#(stamp)""#),
                Self.event("quiet", to: "o-quiet", type: "night.notice"),
            ]
                + others)
        try await eventually("43 outcomes", timeout: .seconds(60)) { run.collector.all.count == 43 }
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)

        let delivered = try await run.pipeline.wechatStats().messagesByOpenID
        let later = try #require(delivered["o-later"]?.first)
        let quiet = try #require(delivered["o-quiet"]?.first)
        #expect(later.receivedAt >= Date(timeIntervalSince1970: (notBefore.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
        #expect(quiet.receivedAt >= end, "not before the quiet hours end (\(end), got \(quiet.receivedAt))")
        let otherTimes = others.compactMap { delivered[$0.openid]?.first?.receivedAt }
        let lastOther = try #require(otherTimes.max())
        #expect(others.allSatisfy { delivered[$0.openid]?.count == 1 })
        #expect(lastOther < later.receivedAt, "the other recipients did not wait for the deferred ones")
        #expect(delivered.values.allSatisfy { $0.count == 1 }, "one message each")
        let outcomes = run.collector.all
        #expect(outcomes["later"]?.map(\.outcome.status) == ["sent"] && outcomes["quiet"]?.map(\.outcome.status) == ["sent"])
        // Both went through the tiers (how many hops depends on when the child joined the group).
        let reader = try KafkaPartitionReader(configuration: run.pipeline.kafka)
        var hops: [String: Int] = [:]
        for topic in run.pipeline.settings.delays.topics {
            for record in try await reader.readAll(topic, timeout: .seconds(20)) {
                hops[String(decoding: record.key ?? [], as: UTF8.self), default: 0] += 1
            }
        }
        #expect((hops["o-later"] ?? 0) >= 1 && (hops["o-quiet"] ?? 0) >= 2, "\(hops) \(run.pipeline.settings.delays.topics)")
        #expect(Set(hops.keys) == ["o-later", "o-quiet"], "nothing else was deferred")
        _ = await run.finish()
    }
}
