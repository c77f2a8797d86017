import ArgumentParser
import Dispatcher
import Foundation
import Harness
import Logging
import Simulator

/// `wxpush demo`: the whole pipeline on the embedded default — in-process Kafka, the WeChat
/// simulator, the dispatcher, sample events (a few types, some invalid) — with progress and a summary.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Runs the whole pipeline on an embedded Kafka and the WeChat simulator with sample events."
    )

    @Option(help: "Sample events to produce.")
    var events: Int = 5_000

    @Option(help: "Distinct recipients (openids).")
    var openids: Int = 500

    @Option(help: "Simulated WeChat latency per send, e.g. 20ms.")
    var latency: String = "20ms"

    @Option(help: "Records in flight per partition.")
    var inFlight: Int = 64

    @Option(help: "The rules file.")
    var rules: String = "config/rules.yaml"

    func run() async throws {
        // The mix is full of problems on purpose (each one a warning line in `run`): errors only.
        LogSetup.bootstrap(defaultLevel: .error)
        let logger = Logger(label: "wxpush.demo")
        var problems: [String] = []
        guard case (let file?, _?) = RulesLoader.load(path: rules, &problems) else {
            throw ValidationError(problems.joined(separator: "\n"))
        }
        guard let simulatedLatency = DurationText.parse(latency) else { throw ValidationError("--latency \(latency): write it like 20ms") }
        let started = Date()
        let demoRules = DemoJudgement.rules(file, now: started)
        let book = try RuleBook(demoRules)
        let runID = UUID().uuidString.prefix(6).lowercased()
        let sample = SampleEvents.make(count: events, openids: openids, shape: .mixed, runID: runID)
        let quiet = DemoJudgement.quietEvent(runID: runID)
        var run = PipelineRun(events: sample + [quiet], rules: book)
        run.inFlight = inFlight
        run.simulator.latency = simulatedLatency
        run.simulator.templates = DemoJudgement.library(for: demoRules)
        run.delays = true
        run.feedsRecipients = true
        let judgement = DemoJudgement()
        let total = events + 1
        // One thing counted throughout: outcomes the dispatcher has written, by status.
        run.progress = { _, stats in
            print(
                "  \(stats.total)/\(total) outcomes · sent \(stats[.sent]) · rejected \(stats[.rejected]) · expired \(stats[.expired]) · failed \(stats[.failed])"
            )
        }
        run.attach = { pipeline in
            let judged = try await judgement.attach(pipeline, events: sample, rules: book, logger: logger)
            let receipts = try await DemoReceipts.attach(pipeline, logger: logger)
            return {
                await judged()
                await receipts()
            }
        }
        print(
            "wxpush demo: \(events) events over \(openids) openids → embedded Kafka (6 partitions) → dispatcher (\(inFlight) in flight per partition) → WeChat simulator (\(latency) latency)"
        )
        let result = try await run.execute(logger: logger)
        print(DemoSummary(result: result, total: events + 1, extraIDs: DemoJudgement.extraIDs(sample)).text)
        let quietDelivery = result.simulator.messagesByOpenID[quiet.openid]?.first?.receivedAt
        let quietEnd = started.addingTimeInterval(DemoJudgement.quietSeconds)
        print(
            "  quiet hours     1 request of rule \(DemoJudgement.quietType) (quiet until \(Timestamp.format(quietEnd.roundedUp())) UTC): "
                + (quietDelivery.map {
                    "delivered \(Timestamp.format($0)), \(String(format: "%.1f", $0.timeIntervalSince(started))) s after the start"
                }
                    ?? "NOT delivered"))
        for line in judgement.lines.withLock({ $0 }) { print(line) }
    }
}

/// The demo's closing summary.
struct DemoSummary {
    let result: RunResult
    let total: Int
    /// Request ids produced after the run (the demo's suppressed user).
    var extraIDs = 0

    var text: String {
        let statuses = Dictionary(grouping: result.receipts, by: \.status).mapValues(\.count)
        let receipts =
            "\(result.receipts.count): delivered \(statuses[.delivered, default: 0]), user_blocked \(statuses[.userBlocked, default: 0]), system_failed \(statuses[.systemFailed, default: 0])"
        let withID = result.receipts.filter { $0.id != nil }.count
        let latency = result.latency.map { String(format: "p50 %.0f ms, p99 %.0f ms", $0.p50, $0.p99) } ?? "n/a"
        return """
            summary
              requests        \(total), every one with an outcome: \(result.outcomes.count == total + extraIDs ? "yes" : "NO (\(result.outcomes.count))")
              sent            \(result.count("sent"))
              rejected        \(result.count("rejected"))  (invalid events, unknown types, bad fields, unfollowed users; DLQ copies: \(result.dispatch.deadLettered)); \(result.outcomes.values.filter { $0.first?.outcome.reason?.hasPrefix("recipient_throttled") == true }.count) over coupon.issued's throttle (3 a day per user)
              expired         \(result.count("expired"))
              failed          \(result.count("failed"))
              throughput      \(String(format: "%.0f", result.eventsPerSecond)) events/s (\(String(format: "%.2f", result.elapsed)) s)
              latency         \(latency) (request produced → outcome produced)
              WeChat          \(result.simulator.delivered) delivered, \(result.simulator.duplicates) duplicates, \(result.simulator.tokenFetches) token fetch(es)
              receipts        \(receipts) (template messages; encrypted callbacks → receipt outcomes, \(withID) with their request id)
              ordering        \(result.inOrderPerOpenID ? "every openid received its messages in offset order" : "OUT OF ORDER")
            """
    }
}
