import Dispatcher
import Foundation
import Harness
import Kafka
import Logging
import Simulator
import Synchronization
import Waiting
import WeChat

/// One chaos scenario's world: an embedded Kafka, the simulator, a read_committed outcome reader,
/// the events, and the `wxpush run` children it starts. It ends with one printed row.
final class ChaosRun: Sendable {
    let name: String
    let pipeline: EmbeddedPipeline
    let collector: OutcomeCollector
    let events: [SampleEvents.Event]
    let started = ContinuousClock.now
    private let peakResident = Mutex(0.0)
    private let logger = Logger.test("wxpush.chaos")

    static func start(
        _ name: String, events count: Int, openids: Int, simulator: SimulatorConfiguration = SimulatorConfiguration(),
        mixed: Bool = false, shape: SampleEvents.Shape? = nil, settings: DispatcherSettings = DispatcherSettings(), delays: Bool = false
    ) async throws -> ChaosRun {
        var simulator = simulator
        simulator.dailyQuota = Int.max
        let pipeline = try await EmbeddedPipeline.start(
            simulator: simulator, settings: settings, delays: delays, logger: Logger.test("wxpush.chaos"))
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        return ChaosRun(
            name: name, pipeline: pipeline, collector: collector,
            events: SampleEvents.make(count: count, openids: openids, shape: shape ?? (mixed ? .mixed : .rules)))
    }

    private init(name: String, pipeline: EmbeddedPipeline, collector: OutcomeCollector, events: [SampleEvents.Event]) {
        self.name = name
        self.pipeline = pipeline
        self.collector = collector
        self.events = events
    }

    func produce(_ events: [SampleEvents.Event]? = nil) async throws {
        try await LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic).produce(events ?? self.events)
    }

    func configuration(_ options: RunOptions, rules: String = orderShippedRules) throws -> String {
        try pipeline.writeRunConfiguration(rulesYAML: rules, options).path
    }

    /// A `wxpush run` child. Its warnings go to a file of its own (named in a failing test's
    /// output), not the test log; with `log`, everything from info up goes to that file.
    func instance(_ config: String, log: URL? = nil) throws -> WXPushProcess {
        try WXPushProcess(
            ["run", "--config", config],
            environment: ["WXPUSH_SECRET_DEFAULT": pipeline.account.secret, "WXPUSH_LOG_LEVEL": log == nil ? "warning" : "info"],
            stderr: log ?? FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-chaos-\(UUID().uuidString.prefix(8)).log"))
    }

    /// A `wxpush run` child with `config`, killed (SIGKILL) once each of `moments` outcomes are in
    /// and started again each time; the last one finishes every event and is stopped (SIGTERM).
    /// Returns its exit status.
    func killAndRestart(_ config: String, at moments: [Int]) async throws -> Int32 {
        var child = try instance(config)
        for moment in moments.sorted() {
            try await waitFor(ids: moment, timeout: .seconds(120), sampling: [child])
            child.signal(SIGKILL)
            _ = try await child.waitForExit(timeout: .seconds(10))
            child = try instance(config)
        }
        try await waitFor(ids: events.count, timeout: .seconds(180), sampling: [child])
        child.signal(SIGTERM)
        return try await child.waitForExit(timeout: .seconds(30))
    }

    /// Notes a child's resident memory (call it now and then; the row shows the peak).
    func sample(_ process: WXPushProcess) {
        let resident = process.residentMiB
        peakResident.withLock { $0 = max($0, resident) }
    }

    /// Samples `process` every 200 ms for `duration`; returns the peak seen in that time.
    @discardableResult
    func sample(_ process: WXPushProcess, for duration: Duration) async throws -> Double {
        let end = ContinuousClock.now + duration
        var peak = 0.0
        while ContinuousClock.now < end {
            sample(process)
            peak = max(peak, process.residentMiB)
            try await Task.sleep(for: .milliseconds(200))
        }
        return peak
    }

    /// Waits until `ids` requests have an outcome, sampling `processes` every 200 ms.
    func waitFor(ids: Int, timeout: Duration, sampling processes: [WXPushProcess] = []) async throws {
        let deadline = ContinuousClock.now + timeout
        while collector.distinctIDs < ids {
            guard ContinuousClock.now < deadline else {
                throw TimedOut(what: "\(ids) outcomes in \(name) (have \(collector.distinctIDs))")
            }
            processes.forEach(sample)
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    struct Row: CustomStringConvertible {
        let scenario: String
        let events: Int
        let outcomes: Int
        /// Outcome copies from aborted transactions (the mock shows them; a real broker does not).
        let abortedCopies: Int
        let duplicateOutcomes: Int
        let duplicateDeliveries: Int
        let lost: Int
        let wechatCalls: Int
        let peakRSS: Double
        let wall: Double
        let inOrder: Bool
        let byStatus: [String: Int]

        var description: String {
            String(
                format:
                    "chaos | %-22@ | events %6d | outcomes %6d (+%d aborted) | dup outcomes %d | dup deliveries %d | lost %d | WeChat calls %6d | peak RSS %4.0f MiB | wall %5.1f s | %@",
                scenario as NSString, events, outcomes, abortedCopies, duplicateOutcomes, duplicateDeliveries, lost, wechatCalls, peakRSS,
                wall,
                byStatus.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") as NSString)
        }
    }

    /// Stops the reader and the world, prints the row and returns it. The embedded (mock) cluster
    /// shows aborted records to read_committed readers (librdkafka 2.0.2); what a real broker
    /// shows is emulated by dropping copies from transactions the progress log never committed.
    func finish() async -> Row {
        await collector.stop()
        let committed = (try? await committedTransactions()) ?? []
        var abortedCopies = 0
        let all = collector.all.compactMapValues { received -> [OutcomeCollector.Received]? in
            let kept = received.filter { $0.transaction.map(committed.contains) ?? true }
            abortedCopies += received.count - kept.count
            return kept.isEmpty ? nil : kept
        }
        let stats = pipeline.simulator.stats
        var byStatus: [String: Int] = [:]
        for received in all.values { byStatus[received[0].outcome.status, default: 0] += 1 }
        let position = Dictionary(uniqueKeysWithValues: events.enumerated().map { (ClientMessageID.derive(fromEventID: $1.id), $0) })
        let inOrder = stats.messagesByOpenID.values.allSatisfy { messages in
            let order = messages.compactMap { position[$0.clientMsgID] }
            return order == order.sorted()
        }
        let row = Row(
            scenario: name, events: events.count, outcomes: all.values.reduce(0) { $0 + $1.count }, abortedCopies: abortedCopies,
            duplicateOutcomes: all.values.filter { $0.count > 1 }.count, duplicateDeliveries: stats.duplicates,
            lost: events.filter { all[$0.id] == nil }.count, wechatCalls: stats.sendRequests,
            peakRSS: peakResident.withLock { $0 }, wall: (ContinuousClock.now - started).seconds, inOrder: inOrder, byStatus: byStatus)
        print(row)
        for (id, received) in all.filter({ $0.value.count > 1 }).prefix(5) {
            print("  repeated outcome \(id): \(received.map { "\($0.outcome.source ?? "?") attempts \($0.outcome.attempts)" })")
        }
        await pipeline.stop()
        return row
    }
}

extension ChaosRun {
    func committedTransactions() async throws -> Set<String> {
        let reader = try KafkaPartitionReader(configuration: pipeline.kafka, logger: logger)
        return try await ProgressLog(topic: pipeline.settings.progressTopic, group: pipeline.settings.groupID)
            .committedTransactions(reader: reader)
    }
}

/// The rules the `wxpush run` children of these tests use: the sample events' `order.shipped`.
let orderShippedRules = """
    rules:
      order.shipped:
        kind: template
        template_id: TEMPLATE_ORDER_SHIPPED
        data:
          keyword1: "{{order.id}}"
    """
