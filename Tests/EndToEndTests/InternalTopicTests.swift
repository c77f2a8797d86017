import Foundation
import Harness
import Testing

@Suite("Internal topics written by someone else")
struct InternalTopicTests {
    @Test("two demand records of 2^62 (they crash-looped every instance) are skipped and counted; the instance goes on dispatching")
    func craftedDemandRecords() async throws {
        let run = try await ChaosRun.start("crafted demand", events: 200, openids: 50)
        let port = try freeLocalPort()
        var options = RunOptions(inFlight: 8, instanceID: "demand")
        options.limits = "{ rate: 1000/s }"
        options.httpPort = port
        let child = try run.instance(try run.configuration(options))
        let base = "http://127.0.0.1:\(port)"
        try await eventually("/readyz", timeout: .seconds(60)) { (try? await HTTPProbe.get(base + "/readyz"))?.status == 200 }
        let crafted = (0..<2).map { index in
            SampleEvents.Event(
                id: "crafted-\(index)", openid: "default/evil-\(index)",
                bytes: Array(
                    #"{"account":"default","instance":"evil-\#(index)","demand":4611686018427387904,"at":\#(Int64(Date().timeIntervalSince1970 * 1000)),"share_ppm":500000}"#
                        .utf8))
        }
        try await LoadGenerator(kafka: run.pipeline.kafka, topic: run.pipeline.settings.demandTopic).produce(crafted)
        try await eventually("both skipped and counted", timeout: .seconds(30)) {
            HTTPProbe.sum(try await HTTPProbe.get(base + "/metrics").body, "wxpush_internal_records_skipped_total", ["topic": "demand"])
                >= 2
        }
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(60), sampling: [child])
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        #expect(row.lost == 0)
    }
}
