import Foundation
import Harness
import Simulator
import Testing

@Suite("Templates checked before sending: check-config --online, and run rejecting missing templates without calling WeChat")
struct TemplateLibraryEndToEndTests {
    static let rules = """
        rules:
          order.shipped:
            kind: template
            template_id: TEMPLATE_ORDER_SHIPPED
            data:
              keyword1: "{{order.id}}"
          order.gone:
            kind: template
            template_id: TEMPLATE_DELETED
            data:
              keyword1: "{{order.id}}"
          order.renamed:
            kind: template
            template_id: TEMPLATE_ORDER_SHIPPED
            data:
              keyword1: "{{order.id}}"
              keyword9: "{{order.id}}"
        """

    static func event(_ id: String, type: String) -> SampleEvents.Event {
        let json = #"{"v":1,"id":"\#(id)","to":"o-\#(id)","type":"\#(type)","data":{"order":{"id":"\#(id)"}}}"#
        return SampleEvents.Event(id: id, openid: "o-\(id)", bytes: Array(json.utf8))
    }

    @Test(
        "check-config --online names the missing template and the unknown keyword; run rejects the missing template's requests with no WeChat call, and a template removed at run time too"
    )
    func checkedBeforeSending() async throws {
        var simulator = SimulatorConfiguration()
        simulator.templates = [
            SimulatedTemplate(
                id: "TEMPLATE_ORDER_SHIPPED", title: "订单发货", content: "{{first.DATA}}\n订单号：{{keyword1.DATA}}\n{{remark.DATA}}"),
            SimulatedTemplate(id: "TEMPLATE_REFUNDED", title: "退款", content: "{{keyword1.DATA}}"),
        ]
        let run = try await ChaosRun.start("templates", events: 0, openids: 1, simulator: simulator)
        var options = RunOptions(inFlight: 4, instanceID: "templates-a")
        options.templates = "{ check: strict, refresh: 1s }"
        let config = try run.configuration(options, rules: Self.rules)

        let check = try WXPushProcess(
            ["check-config", "--online", "--config", config], environment: ["WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret])
        #expect(try await check.waitForExit(timeout: .seconds(30)) == 1)
        let problems = check.stdoutLines.filter { $0.hasPrefix("problem: ") }
        #expect(problems.count == 2, "\(check.stdoutLines)")
        #expect(
            problems.contains {
                $0.contains("rules.order.gone.template_id: TEMPLATE_DELETED is not in the template library of account default")
            }
        )
        #expect(problems.contains { $0.contains("rules.order.renamed.data.keyword9: template TEMPLATE_ORDER_SHIPPED") })
        #expect(check.stdoutLines.contains { $0.hasPrefix("note: account default: the subscribe library was not read") } == false)

        let child = try run.instance(config)
        try await run.produce((0..<3).map { Self.event("ok-\($0)", type: "order.shipped") })
        try await eventually("the first sends", timeout: .seconds(60)) { run.collector.all.count == 3 }
        try await run.produce((0..<3).map { Self.event("gone-\($0)", type: "order.gone") })
        try await eventually("the missing template's outcomes", timeout: .seconds(60)) { run.collector.all.count == 6 }

        // Removed from the library while running: the next read (1 s) stops its sends.
        run.pipeline.simulator.updateConfiguration { $0.templates?.removeAll { $0.id == "TEMPLATE_ORDER_SHIPPED" } }
        try await Task.sleep(for: .seconds(3))
        try await run.produce((0..<3).map { Self.event("removed-\($0)", type: "order.shipped") })
        try await eventually("the removed template's outcomes", timeout: .seconds(60)) { run.collector.all.count == 9 }
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)

        let outcomes = run.collector.all
        for id in (0..<3).map({ "ok-\($0)" }) { #expect(outcomes[id]?.first?.outcome.status == "sent") }
        for id in (0..<3).flatMap({ ["gone-\($0)", "removed-\($0)"] }) {
            let outcome = try #require(outcomes[id]?.first?.outcome)
            #expect(outcome.status == "rejected" && outcome.reasonCode == "template_missing", "\(outcome)")
            #expect(outcome.attempts == 0)
        }
        let stats = try await run.pipeline.wechatStats()
        #expect(stats.sendRequests == 3, "only the three sends of the listed template reached WeChat")
        #expect(stats.errorsByCode["40037"] == nil)
        _ = await run.finish()
    }
}
