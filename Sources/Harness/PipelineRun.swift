import Dispatcher
import Foundation
import Kafka
import Logging
import Simulator
import WeChat

/// One run of the whole pipeline on the embedded default: start Kafka and the simulator, run a
/// dispatcher, produce the events, wait until every request has an outcome, stop gracefully.
public struct PipelineRun: Sendable {
    public var events: [SampleEvents.Event]
    public var rules: RuleBook
    public var partitions = 6
    public var inFlight = 64
    public var simulator = SimulatorConfiguration()
    public var timeout: Duration = .seconds(600)
    /// Called about once a second with (outcomes so far, dispatcher totals).
    public var progress: (@Sendable (Int, DispatchStats.Snapshot) -> Void)?

    public init(events: [SampleEvents.Event], rules: RuleBook) {
        self.events = events
        self.rules = rules
    }

    public func execute(logger: Logger) async throws -> RunResult {
        let pipeline = try await EmbeddedPipeline.start(partitions: partitions, simulator: simulator, logger: logger)
        let stats = DispatchStats()
        let dispatcher = try pipeline.dispatcher(rules: rules, inFlight: inFlight, stats: stats, logger: logger)
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        let generator = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
        collector.start()
        let service = Task { try await dispatcher.service.run() }
        // The clock starts once both groups have their partitions: joining is not dispatching.
        try await waitForAssignment(dispatcher.consumer, partitions: partitions)
        try await waitForAssignment(collector.consumer, partitions: pipeline.resultsPartitions)
        let cpuBefore = ProcessUsage.cpuSeconds
        let start = Date().timeIntervalSince1970
        /// Stops the dispatcher gracefully (drain, commit), then the outcome reader and the HTTP client.
        func stopDispatching() async throws {
            dispatcher.consumer.triggerGracefulShutdown()
            let stopped = await service.result
            await collector.stop()
            await dispatcher.shutdown()
            try stopped.get()
        }
        do {
            try await generator.produce(events)
            try await collector.waitFor(ids: events.count, timeout: timeout) { [progress] count in progress?(count, stats.snapshot) }
        } catch {
            try? await stopDispatching()
            await pipeline.stop()
            throw error
        }
        let end = Date().timeIntervalSince1970
        let cpu = ProcessUsage.cpuSeconds - cpuBefore
        try await stopDispatching()
        let result = RunResult(
            events: events, outcomes: collector.all, elapsed: end - start, cpuSeconds: cpu, dispatch: stats.snapshot,
            simulator: pipeline.simulator.stats, generator: generator,
            uncommitted: try await pipeline.uncommittedRequests()
        )
        await pipeline.stop()
        return result
    }
}

/// Waits (at most 30 s) until a group consumer owns `partitions` partitions.
func waitForAssignment(_ consumer: KafkaConsumer, partitions: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(30)
    while (try? consumer.assignment().count) != partitions {
        guard ContinuousClock.now < deadline else { throw HarnessError("no assignment of \(partitions) partitions within 30 s") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// What a run did, measured.
public struct RunResult: Sendable {
    public let outcomes: [String: [OutcomeCollector.Received]]
    public let elapsed: Double
    public let cpuSeconds: Double
    public let dispatch: DispatchStats.Snapshot
    public let simulator: SimulatorStats
    public let latency: LatencySummary?
    /// Every openid's messages reached the simulator in the order their events were produced.
    public let inOrderPerOpenID: Bool
    /// Request records beyond the group's committed offsets after the dispatcher stopped.
    public let uncommitted: Int64

    init(
        events: [SampleEvents.Event], outcomes: [String: [OutcomeCollector.Received]], elapsed: Double, cpuSeconds: Double,
        dispatch: DispatchStats.Snapshot, simulator: SimulatorStats, generator: LoadGenerator, uncommitted: Int64
    ) {
        self.uncommitted = uncommitted
        self.outcomes = outcomes
        self.elapsed = elapsed
        self.cpuSeconds = cpuSeconds
        self.dispatch = dispatch
        self.simulator = simulator
        latency = LatencySummary(
            outcomes.compactMap { id, received in
                guard let produced = generator.producedTime(of: id), let done = received.first?.producedAt else { return nil }
                return (done - produced) * 1000
            })
        let position = Dictionary(uniqueKeysWithValues: events.enumerated().map { (ClientMessageID.derive(fromEventID: $1.id), $0) })
        inOrderPerOpenID = simulator.messagesByOpenID.values.allSatisfy { messages in
            let order = messages.compactMap { position[$0.clientMsgID] }
            return order == order.sorted()
        }
    }

    public var eventsPerSecond: Double { Double(outcomes.count) / max(elapsed, 1e-9) }

    public func count(_ status: String) -> Int { outcomes.values.filter { $0.first?.outcome.status == status }.count }

    /// Request ids with more than one outcome (allowed after a crash; not in a clean run).
    public var repeatedOutcomes: Int { outcomes.values.filter { $0.count > 1 }.count }
}
