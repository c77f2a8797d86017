import Foundation
import Harness
import Testing

@Suite("wxpush run checks the topics' layout at start")
struct TopicLayoutTests {
    @Test("a sent topic the broker auto-created with its own partition count is refused, naming the fix; exit 1")
    func autoCreatedSentTopic() async throws {
        let run = try await ChaosRun.start("topic layout", events: 0, openids: 1)
        let path = try run.configuration(RunOptions(inFlight: 4, instanceID: "layout"))
        let sent = run.pipeline.settings.sentTopic
        // A name nobody created: the embedded cluster creates it when asked, with its default count.
        let config = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "sent: \(sent)", with: "sent: \(sent)-auto")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-layout-\(UUID().uuidString.prefix(8)).log")
        let child = try WXPushProcess(
            ["run", "--config", path], environment: ["WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret], stderr: log)
        #expect(try await child.waitForExit(timeout: .seconds(60)) != 0)
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(output.contains("kafka.topics.sent: \(sent)-auto has "), "\(output)")
        #expect(output.contains("recreate it with 6 partitions"))
        _ = await run.finish()
    }
}
