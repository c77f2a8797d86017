import Foundation
import Harness
import Testing

@Suite("Operator commands as a user runs them: render and dlq")
struct OperatorCommandsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `wxpush` with these arguments to its end: exit status and stdout.
    static func wxpush(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, out: String) {
        var arguments = arguments
        var file: URL?
        if let input {
            file = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-event-\(UUID().uuidString).json")
            try input.write(to: file!, atomically: true, encoding: .utf8)
            arguments.append(file!.path)
        }
        let process = try WXPushProcess(arguments)
        let status = try await process.waitForExit(timeout: .seconds(60))
        return (status, process.stdoutLines.joined(separator: "\n"))
    }

    @Test(
        "`wxpush demo` as the README's first command runs it: exit 0, a summary, and not one line on stderr (its clients close before the embedded Kafka)"
    )
    func demoEndsCleanly() async throws {
        let stderr = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-demo-\(UUID().uuidString.prefix(8)).log")
        let demo = try WXPushProcess(["demo", "--events", "200"], stderr: stderr)
        #expect(try await demo.waitForExit(timeout: .seconds(120)) == 0)
        #expect(demo.stdoutLines.contains { $0.contains("ordering") && $0.contains("in offset order") }, "\(demo.stdoutLines)")
        let errors = try String(contentsOf: stderr, encoding: .utf8)
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test("render shows the body each shipped rule makes, names a cut field, and a rejection with its reason code")
    func render() async throws {
        let config = Self.root.appendingPathComponent("config/wxpush.yaml").path
        let shipped = try await Self.wxpush(
            ["render", "--config", config],
            input: #"{"v":1,"id":"r1","type":"order.shipped","to":"oR","data":{"order":{"id":"8812","carrier":"SF","eta":"2026-12-08"}}}"#)
        #expect(shipped.status == 0)
        #expect(shipped.out.contains("POST /cgi-bin/message/template/send"), "\(shipped.out)")
        #expect(shipped.out.contains(#""template_id":"TEMPLATE_ORDER_SHIPPED""#) && shipped.out.contains(#""touser":"oR""#))
        let long = String(repeating: "长", count: 40)
        let coupon = try await Self.wxpush(
            ["render", "--config", config],
            input: #"{"v":1,"id":"r2","type":"coupon.issued","to":"oR","data":{"coupon":{"name":"\#(long)","expires":"2026-12-31"}}}"#
        )
        #expect(coupon.status == 0 || coupon.status == 2, "\(coupon.out)")
        if coupon.status == 0 { #expect(coupon.out.contains("truncated: "), "a 40-character thing field is cut: \(coupon.out)") }
        let unknown = try await Self.wxpush(["render", "--config", config], input: #"{"v":1,"id":"r3","type":"nope","to":"oR"}"#)
        #expect(unknown.status == 2)
        #expect(unknown.out.contains("reason_code unknown_type"))
        let invalid = try await Self.wxpush(["render", "--config", config], input: "not json")
        #expect(invalid.status == 2 && invalid.out.contains("reason_code invalid_event"))
    }

    @Test(
        "dlq: requests rejected by a broken rule are listed by reason, replayed once the rule is fixed (rate-limited, ids kept), and each reaches WeChat once"
    )
    func dlqReplay() async throws {
        let run = try await ChaosRun.start("dlq-replay", events: 20, openids: 5)
        var options = RunOptions(inFlight: 8, instanceID: "dlq")
        options.limits = "{ rate: 10/s }"
        let broken = orderShippedRules.replacingOccurrences(of: "{{order.id}}", with: "{{order.voucher}}")
        let first = try run.instance(try run.configuration(options, rules: broken))
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(60), sampling: [first])
        first.signal(SIGTERM)
        #expect(try await first.waitForExit(timeout: .seconds(30)) == 0)
        let rejected = run.collector.all.values.compactMap(\.first?.outcome)
        #expect(rejected.allSatisfy { $0.status == "rejected" && $0.reasonCode == "missing_variable" })

        let fixed = try run.configuration(options)
        let list = try await Self.wxpush(["dlq", "list", "--config", fixed, "--since", "1h"])
        #expect(list.status == 0)
        #expect(
            list.out.contains("\(run.events.count) copies") && list.out.contains("missing_variable: \(run.events.count)"), "\(list.out)")
        let dry = try await Self.wxpush(["dlq", "replay", "--config", fixed, "--reason-code", "missing_variable", "--dry-run"])
        #expect(dry.out.contains("would replay \(run.events.count) to \(run.pipeline.settings.requestsTopic)"), "\(dry.out)")
        let none = try await Self.wxpush(["dlq", "list", "--config", fixed, "--reason-code", "expired"])
        #expect(none.out.contains(": 0 copies"))

        let second = try run.instance(fixed)
        let replay = try await Self.wxpush(["dlq", "replay", "--config", fixed, "--reason-code", "missing_variable", "--rate", "50"])
        #expect(replay.status == 0 && replay.out.contains("replayed \(run.events.count)/\(run.events.count)"), "\(replay.out)")
        try await eventually("a second outcome per id", timeout: .seconds(60)) {
            run.collector.all.values.allSatisfy { $0.count == 2 } && run.collector.distinctIDs == run.events.count
        }
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(30)) == 0)
        for (id, outcomes) in run.collector.all {
            #expect(outcomes.last?.outcome.status == "sent", "\(id): the replayed request is sent")
        }
        let stats = try await run.pipeline.wechatStats()
        #expect(stats.messagesByOpenID.values.reduce(0) { $0 + $1.count } == run.events.count, "each id reached WeChat once")
        _ = await run.finish()
    }
}
