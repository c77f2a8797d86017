import AsyncHTTPClient
import Dispatcher
import Foundation
import Harness
import Logging
import Simulator
import Synchronization
import WeChat

/// The demo's judgement around the send, each shown once: a template warning (the simulator's
/// library lacks a keyword a rule renders), a quiet-hours rule (quiet for the first seconds of
/// the run), and, after the main run, a repeated id and a user WeChat said unfollowed.
final class DemoJudgement: Sendable {
    /// Seconds the demo's quiet-hours rule stays quiet from the start.
    static let quietSeconds = 8.0
    static let quietType = "demo.quiet"
    /// The keyword the library's version of `order.shipped`'s template lacks.
    static let droppedKeyword = "keyword3"

    let lines = Mutex<[String]>([])
    /// Request ids the after-run wave adds to `events`: the unfollowed user's second request.
    static func extraIDs(_ events: [SampleEvents.Event]) -> Int { unfollowed(in: events) == nil ? 0 : 1 }

    /// The first sample request to a user WeChat answers 43004 (keyed by the plain openid,
    /// addressed as `unfollowed-…`), with that address.
    static func unfollowed(in events: [SampleEvents.Event]) -> (event: SampleEvents.Event, to: String)? {
        events.lazy.compactMap { event -> (event: SampleEvents.Event, to: String)? in
            guard case .success(let request) = RequestEvent.decode(event.bytes), request.to.hasPrefix("unfollowed") else { return nil }
            return (event, request.to)
        }.first
    }

    /// The shipped rules plus `demo.quiet`: `order.shipped`'s template, quiet (UTC) from an hour
    /// ago until `quietSeconds` from `now`.
    static func rules(_ file: RulesFile, now: Date) -> RulesFile {
        var file = file
        func clock(_ date: Date) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
            return String(format: "%02d:%02d:%02d", parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0)
        }
        file.rules[quietType] = Rule(
            kind: .template, templateID: "TEMPLATE_ORDER_SHIPPED",
            data: ["keyword1": FieldTemplate(value: "{{order.id}}"), "keyword2": FieldTemplate(value: "quiet hours")],
            quietHours: QuietHours(
                from: clock(now.addingTimeInterval(-3600)), to: clock(now.addingTimeInterval(quietSeconds).roundedUp()), zone: "UTC"))
        return file
    }

    /// The simulator's library: every rule's template with the keywords it renders (the sample
    /// raw messages' too), but `order.shipped`'s without `droppedKeyword`.
    static func library(for file: RulesFile) -> [SimulatedTemplate] {
        var templates: [String: SimulatedTemplate] = [
            "TEMPLATE_RAW": SimulatedTemplate(id: "TEMPLATE_RAW", title: "raw", content: "{{keyword1.DATA}}"),
            "SUBSCRIBE_RAW": SimulatedTemplate(id: "SUBSCRIBE_RAW", title: "raw", content: "{{thing1.DATA}}", subscribe: true),
        ]
        for (type, rule) in file.rules.sorted(by: { $0.key < $1.key }) where type != quietType {
            let keywords = rule.data.keys.sorted().filter { type != "order.shipped" || $0 != droppedKeyword }
            templates[rule.templateID] = SimulatedTemplate(
                id: rule.templateID, title: type, content: keywords.map { "{{\($0).DATA}}" }.joined(separator: "\n"),
                subscribe: rule.kind != .template)
        }
        return templates.values.sorted { $0.id < $1.id }
    }

    static func quietEvent(runID: String) -> SampleEvents.Event {
        let id = "\(runID)-quiet"
        let json = #"{"v":1,"id":"\#(id)","type":"\#(quietType)","to":"o-quiet","data":{"order":{"id":"Q1"}}}"#
        return SampleEvents.Event(id: id, openid: "o-quiet", bytes: Array(json.utf8))
    }

    /// Before the load: the template check against the simulator's library, printed. Returns what
    /// runs after the main run: a repeated id and a request to an unfollowed user, with their outcomes.
    func attach(
        _ pipeline: EmbeddedPipeline, events: [SampleEvents.Event], rules: RuleBook, logger: Logger
    ) async throws
        -> @Sendable () async -> Void
    {
        let httpClient = HTTPClient()
        let wechat = WeChatClient(httpClient: httpClient, accounts: [pipeline.account], logger: logger)
        let reads = await TemplateRefresh.read(wechat, accounts: [pipeline.account.name])
        try? await httpClient.shutdown()
        for problem in TemplateCheck.problems(rules: rules, libraries: reads.libraries) {
            print("  template check (warning): \(problem)")
        }
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        let load = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
        let repeated = events.first {
            String(decoding: $0.bytes, as: UTF8.self).contains("\"type\":\"order.shipped\"") && !$0.openid.hasPrefix("unfollowed")
        }
        let unfollowed = Self.unfollowed(in: events)
        return { [self] in
            defer { Task { await collector.stop() } }
            var wave: [SampleEvents.Event] = []
            if let repeated { wave.append(repeated) }
            let again = unfollowed.map { event, to in
                SampleEvents.Event(
                    id: event.id + "-again", openid: event.openid,
                    bytes: Array(SampleEvents.orderShipped(id: event.id + "-again", openid: to, index: 0).utf8))
            }
            if let again { wave.append(again) }
            guard (try? await load.produce(wave)) != nil else { return }
            let deadline = ContinuousClock.now + .seconds(30)
            func done() -> Bool {
                (repeated.map { (collector.all[$0.id]?.count ?? 0) >= 2 } ?? true) && (again.map { collector.all[$0.id] != nil } ?? true)
            }
            while !done(), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            let all = collector.all
            self.lines.withLock { lines in
                if let repeated, let second = all[repeated.id]?.last?.outcome {
                    lines.append(
                        "  repeated id     \(repeated.id) produced again: \(second.status), \(second.reasonCode ?? "-"), msgid \(second.msgid.map(String.init) ?? "-") (no second WeChat call)"
                    )
                }
                if let again, let outcome = all[again.id]?.first?.outcome {
                    lines.append(
                        "  suppressed user \(outcome.to ?? "-") (WeChat answered 43004 earlier): \(outcome.status), \(outcome.reasonCode ?? "-"), no WeChat call"
                    )
                }
            }
        }
    }
}

extension Date {
    /// Whole seconds, rounded up (quiet hours are written to the second).
    func roundedUp() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.up)) }
}
