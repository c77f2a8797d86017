import Dispatcher
import Foundation
import Harness
import Kafka
import Logging
import Simulator
import Testing
import WeChat
import Yams

/// The real pieces over real sockets: embedded Kafka over TCP, the simulator over HTTP, the dispatcher.
@Suite("Dispatcher end to end")
struct DispatchEndToEndTests {
    let logger = Logger.test("wxpush.test")

    @Test("10,000 events over 6 partitions and 1,000 openids: one outcome each, all sent, in order per openid, all committed")
    func tenThousandEvents() async throws {
        var run = PipelineRun(events: SampleEvents.make(count: 10_000, openids: 1_000, shape: .rules), rules: try testRules())
        run.simulator.latency = .milliseconds(2)
        run.timeout = .seconds(180)
        let result = try await run.execute(logger: logger)
        #expect(result.outcomes.count == 10_000)
        #expect(result.repeatedOutcomes == 0)
        #expect(result.count("sent") == 10_000)
        #expect(result.simulator.delivered == 10_000)
        #expect(result.simulator.duplicates == 0)
        #expect(result.inOrderPerOpenID)
        #expect(result.uncommitted == 0)
        #expect(result.simulator.messagesByOpenID.count == 1_000)
    }

    @Test("the demo mix: invalid events are rejected with a reason and copied to the DLQ, the rest goes on")
    func mixedInput() async throws {
        let count = 1_000
        var run = PipelineRun(events: SampleEvents.make(count: count, openids: 100, shape: .mixed), rules: try demoRules())
        run.timeout = .seconds(120)
        let result = try await run.execute(logger: logger)
        #expect(result.outcomes.count == count)
        for index in 0..<count {
            let expected = SampleEvents.expected(index: index, shape: .mixed, openids: 100).rawValue
            let id = run.events[index].id
            // A value that is not JSON has no readable id: its outcome is keyed topic/partition/offset.
            if let outcome = result.outcomes[id]?.first?.outcome {
                #expect(outcome.status == expected, "\(id): \(outcome.status) \(outcome.reason ?? "")")
            }
        }
        let invalid = (0..<count).filter { $0 % 50 == 7 }.count
        let unfollowed = (0..<count).filter { $0 % 200 == 17 && $0 % 50 != 7 }.count
        let throttled = (0..<count).filter { SampleEvents.throttledCoupon($0, openids: 100) }.count
        #expect(throttled > 0)
        #expect(result.count("rejected") == invalid + unfollowed + throttled)
        #expect(result.dispatch.deadLettered == invalid)
        let reasons = result.outcomes.values.compactMap { $0.first?.outcome.reason }
        for prefix in [
            "invalid_event: not JSON", "invalid_event: missing field to", "unknown_type", "missing_variable: order.carrier",
            "field_invalid: thing3", "recipient_throttled: 3 per 1d for coupon.issued",
        ] {
            #expect(reasons.contains { $0.hasPrefix(prefix) }, "no outcome with reason \(prefix)")
        }
        #expect(reasons.contains { $0.hasPrefix("wechat_errcode: 43004") })
        // Each outcome not plainly sent carries its reason's code (a terminal errcode's is errcode_terminal).
        for outcome in result.outcomes.values.compactMap({ $0.first?.outcome }) where outcome.status != "sent" {
            let prefix = outcome.reason.map { String($0.prefix { $0 != ":" }) }
            #expect(outcome.reasonCode == (prefix == "wechat_errcode" ? "errcode_terminal" : prefix), "\(outcome.id)")
        }
        #expect(result.inOrderPerOpenID)
        #expect(result.uncommitted == 0)
    }

    @Test("tokens invalidated and expired mid-run: no failed send, a few token fetches")
    func tokensMidRun() async throws {
        let pipeline = try await EmbeddedPipeline.start(simulator: SimulatorConfiguration(latency: .milliseconds(5)), logger: logger)
        let dispatcher = try pipeline.dispatcher(rules: try testRules(), logger: logger)
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        let service = Task { try await dispatcher.service.run() }
        let events = SampleEvents.make(count: 3_000, openids: 300, shape: .rules)
        let generator = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
        try await generator.produce(events)
        try await collector.waitFor(ids: 1_000, timeout: .seconds(120))
        pipeline.simulator.invalidateAllTokens()
        try await collector.waitFor(ids: 2_000, timeout: .seconds(120))
        pipeline.simulator.expireAllTokens()
        try await collector.waitFor(ids: 3_000, timeout: .seconds(120))
        dispatcher.consumer.triggerGracefulShutdown()
        try await service.value
        await collector.stop()
        await dispatcher.shutdown()
        let stats = pipeline.simulator.stats
        await pipeline.stop()
        #expect(collector.all.values.allSatisfy { $0.first?.outcome.status == "sent" })
        #expect(stats.delivered == 3_000)
        #expect(stats.tokenFetches >= 3)
        #expect(stats.tokenFetches <= 8, "refreshes should be shared, not one per send: \(stats.tokenFetches)")
    }
}

extension DispatchEndToEndTests {
    @Test(
        "a fatal producer error mid-run stops consumption and ends the service with producerFailed; a new dispatcher finishes, nothing lost",
        arguments: [true, false])
    func fatalProducerError(exactlyOnce: Bool) async throws {
        let pipeline = try await EmbeddedPipeline.start(simulator: SimulatorConfiguration(latency: .milliseconds(5)), logger: logger)
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        let events = SampleEvents.make(count: 2_000, openids: 200, shape: .rules)
        try await LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic).produce(events)
        // The fatal error is logged at critical, on purpose here.
        let quiet = Logger(label: "wxpush.test.fatal") { _ in SwiftLogNoOpLogHandler() }
        let first = try pipeline.dispatcher(rules: try testRules(), inFlight: 8, exactlyOnce: exactlyOnce, logger: quiet)
        let service = Task { try await first.service.run() }
        try await collector.waitFor(ids: 300, timeout: .seconds(60))
        first.producer.triggerFatalErrorForTesting()
        let ended = Task {
            do {
                try await service.value
                return "returned"
            } catch DispatcherError.producerFailed {
                return "producerFailed"
            } catch {
                return "\(error)"
            }
        }
        let deadline = Task {
            try? await Task.sleep(for: .seconds(30))
            service.cancel()
        }
        #expect(await ended.value == "producerFailed")
        deadline.cancel()
        await first.shutdown()
        // A restart gets a new producer and finishes the backlog.
        let second = try pipeline.dispatcher(rules: try testRules(), inFlight: 8, exactlyOnce: exactlyOnce, logger: logger)
        let running = Task { try await second.service.run() }
        try await collector.waitFor(ids: events.count, timeout: .seconds(90))
        second.consumer.triggerGracefulShutdown()
        try await running.value
        await second.shutdown()
        await collector.stop()
        await pipeline.stop()
        #expect(events.allSatisfy { collector.all[$0.id]?.first?.outcome.status == "sent" })
    }
}

/// Rules for the plain `order.shipped` events of `SampleEvents`.
func testRules() throws -> RuleBook {
    try RuleBook(
        RulesFile(rules: [
            "order.shipped": Rule(
                kind: .template, templateID: "TEMPLATE_ORDER_SHIPPED", url: "https://shop.example.com/orders/{{order.id}}",
                data: ["keyword1": FieldTemplate(value: "{{order.id}}"), "keyword2": FieldTemplate(value: "{{order.carrier}}")]
            )
        ]))
}

/// The shipped `config/rules.yaml`, which the demo mix is written for.
func demoRules() throws -> RuleBook {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/rules.yaml")
    return try RuleBook(YAMLDecoder().decode(RulesFile.self, from: String(contentsOf: path, encoding: .utf8)))
}
