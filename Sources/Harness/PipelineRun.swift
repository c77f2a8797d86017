import Dispatcher
import Foundation
import Kafka
import Logging
import Simulator
import WeChat

/// One run of the whole pipeline on the embedded default: start Kafka and the simulator, run a
/// dispatcher, produce the events, wait until every request has an outcome, stop gracefully.
public struct PipelineRun: Sendable {
    /// Where the dispatcher runs: in this process (demo, tests), or as `wxpush run` in a child
    /// process (benchmarks: its CPU time and memory are then its own).
    public enum Placement: Sendable {
        case inProcess
        case childProcess(executable: String, rulesYAML: String)
        /// The Go peer dispatcher (`../shared/peers/go-dispatcher`), built at `executable`: raw
        /// `message` events only, at-least-once.
        case goPeer(executable: String)
    }

    public var events: [SampleEvents.Event]
    public var rules: RuleBook
    public var placement = Placement.inProcess
    public var partitions = 6
    public var inFlight = 64
    /// Outcomes and offsets in Kafka transactions (the default), or at-least-once.
    public var exactlyOnce = true
    /// The Kafka the run uses: the embedded cluster, or a Tansu broker.
    public var broker = EmbeddedPipeline.Broker.embedded
    /// A child `wxpush run`'s `kafka.producers` (YAML flow map); nil: none.
    public var producers: String?

    /// A child `wxpush run` answers repeated ids (`dedup_window`) and suppresses recipients (the
    /// recipients topic), as by default; false turns both off.
    public var judgement = true

    private var runOptions: RunOptions {
        var options = RunOptions(inFlight: inFlight, exactlyOnce: exactlyOnce)
        options.producers = producers
        options.dedupWindow = judgement ? nil : "0"
        options.suppression = judgement
        return options
    }
    public var simulator = SimulatorConfiguration()
    /// Who answers the WeChat calls; the threaded stand-in takes only `simulator.latency`.
    public var standIn = WeChatStandIn.builtin
    /// Delay topics and the relay (the demo's quiet-hours rule); off, deferred requests wait in memory.
    public var delays = false
    /// An in-process dispatcher also reads the recipients topic (as `wxpush run` does), so a
    /// recipient WeChat said left is suppressed.
    public var feedsRecipients = false
    public var timeout: Duration = .seconds(600)
    /// Called about once a second with (outcomes so far, dispatcher totals).
    public var progress: (@Sendable (Int, DispatchStats.Snapshot) -> Void)?
    /// Called once the pipeline is up, before the load (the demo starts its receipt callback
    /// there); what it returns runs after every outcome arrived, before the dispatcher stops.
    public var attach: (@Sendable (EmbeddedPipeline) async throws -> @Sendable () async -> Void)?

    public init(events: [SampleEvents.Event], rules: RuleBook) {
        self.events = events
        self.rules = rules
    }

    public func execute(logger: Logger) async throws -> RunResult {
        let pipeline = try await EmbeddedPipeline.start(
            partitions: partitions, simulator: simulator, standIn: standIn, delays: delays, broker: broker, logger: logger)
        let result: Result<RunResult, any Error>
        do { result = .success(try await measure(on: pipeline, logger: logger)) } catch { result = .failure(error) }
        // Every client of the run (dispatcher, reader, generator) is gone with `measure`'s frame: the
        // embedded Kafka stops last, so no client logs its refused reconnects.
        await pipeline.stop()
        return try result.get()
    }

    private func measure(on pipeline: EmbeddedPipeline, logger: Logger) async throws -> RunResult {
        let stats = DispatchStats()
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        let generator = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
        collector.start()
        let dispatcher: RunningDispatcher
        do {
            try await waitForAssignment(collector.consumer, partitions: pipeline.resultsPartitions)
            dispatcher = try await start(on: pipeline, stats: stats, collector: collector, generator: generator, logger: logger)
        } catch {
            await collector.stop()
            throw error
        }
        let detach: (@Sendable () async -> Void)?
        do { detach = try await attach?(pipeline) } catch {
            try? await dispatcher.stop()
            await collector.stop()
            throw error
        }
        let usageBefore = dispatcher.usage()
        let processCPUBefore = ProcessUsage.cpuSeconds
        let standInCPUBefore = pipeline.standInCPUSeconds
        let start = Date().timeIntervalSince1970
        /// Stops the dispatcher gracefully (drain, commit), then the outcome reader.
        func stopDispatching() async throws {
            var failure: (any Error)?
            do { try await dispatcher.stop() } catch { failure = error }
            await collector.stop()
            if let failure { throw failure }
        }
        do {
            try await generator.produce(events)
            try await collector.waitFor(ids: events.count + dispatcher.warmUps, timeout: timeout) { [progress] count in
                progress?(count - dispatcher.warmUps, stats.snapshot)
            }
        } catch {
            try? await stopDispatching()
            throw error
        }
        let end = Date().timeIntervalSince1970
        let usageAfter = dispatcher.usage()
        let processCPU = ProcessUsage.cpuSeconds - processCPUBefore
        let standInCPU = pipeline.standInCPUSeconds.map { $0 - (standInCPUBefore ?? 0) }
        await detach?()
        try await stopDispatching()
        let wechat = try await pipeline.wechatStats()
        let usage = DispatcherUsage(
            cpuSeconds: usageAfter.cpuSeconds - usageBefore.cpuSeconds, peakResidentMiB: usageAfter.peakResidentMiB,
            isolated: usageAfter.isolated)
        let result = RunResult(
            events: events, outcomes: collector.all.filter { !$0.key.hasPrefix(LoadGenerator.warmUpPrefix) }, elapsed: end - start,
            dispatcherUsage: usage, totalCPUSeconds: usage.isolated ? processCPU + usage.cpuSeconds : processCPU,
            standInCPUSeconds: standInCPU,
            dispatch: stats.snapshot, simulator: wechat, generator: generator, receipts: collector.receipts,
            // Tansu's ListOffsets answers a wrong high watermark (a known gap of it): no lag there.
            uncommitted: broker == .embedded ? try await pipeline.uncommittedRequests() : nil
        )
        return result
    }

    /// Starts the dispatcher and returns once it dispatches from every request partition.
    private func start(
        on pipeline: EmbeddedPipeline, stats: DispatchStats, collector: OutcomeCollector, generator: LoadGenerator, logger: Logger
    ) async throws -> RunningDispatcher {
        switch placement {
        case .inProcess:
            let assembly = try pipeline.dispatcher(
                rules: rules, inFlight: inFlight, exactlyOnce: exactlyOnce, stats: stats, logger: logger)
            let service = Task { try await assembly.service.run() }
            let feed = try assembly.suppressions.flatMap { suppressions in
                try feedsRecipients
                    ? RecipientFeed(
                        kafka: pipeline.kafka, topic: pipeline.settings.recipientsTopic, group: pipeline.settings.groupID,
                        instanceID: "in-process", suppressions: suppressions, logger: logger) : nil
            }
            let feeding = feed.map { feed in Task { try? await feed.run() } }
            let running = RunningDispatcher(
                warmUps: 0,
                stop: {
                    feed?.stop()
                    await feeding?.value
                    assembly.consumer.triggerGracefulShutdown()
                    let stopped = await service.result
                    await assembly.shutdown()
                    try stopped.get()
                },
                usage: {
                    DispatcherUsage(cpuSeconds: ProcessUsage.cpuSeconds, peakResidentMiB: ProcessUsage.peakResidentMiB, isolated: false)
                }
            )
            do {
                try await waitForAssignment(assembly.consumer, partitions: partitions)
            } catch {
                try? await running.stop()
                throw error
            }
            return running
        case .childProcess(let executable, let rulesYAML):
            return try await started(
                DispatcherProcess.wxpush(
                    executable: executable, pipeline: pipeline, rulesYAML: rulesYAML,
                    options: runOptions),
                name: "wxpush run", collector: collector, generator: generator)
        case .goPeer(let executable):
            return try await started(
                DispatcherProcess.goPeer(executable: executable, pipeline: pipeline, window: inFlight),
                name: "go-dispatcher", collector: collector, generator: generator)
        }
    }

    /// Wraps a child dispatcher; returns once its group has joined, that is once one event on
    /// every partition has an outcome.
    private func started(
        _ child: DispatcherProcess, name: String, collector: OutcomeCollector, generator: LoadGenerator
    ) async throws -> RunningDispatcher {
        let running = RunningDispatcher(
            warmUps: partitions,
            stop: {
                let status = try await child.stop()
                guard status == 0 else { throw HarnessError("\(name) exited with status \(status) after SIGTERM") }
            },
            usage: { child.usage }
        )
        do {
            try await generator.warmUp(partitions: partitions)
            try await collector.waitFor(ids: partitions, timeout: .seconds(60))
        } catch {
            try? await running.stop()
            throw error
        }
        return running
    }
}

/// A started dispatcher, wherever it runs.
private struct RunningDispatcher: Sendable {
    /// Events it was sent before the measured run (excluded from the results).
    let warmUps: Int
    let stop: @Sendable () async throws -> Void
    let usage: @Sendable () -> DispatcherUsage
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
    /// The dispatcher's CPU time and peak memory during the run (the whole process's when it ran in-process).
    public let dispatcherUsage: DispatcherUsage
    /// CPU time of everything: dispatcher, broker, simulator, load generator and outcome reader.
    public let totalCPUSeconds: Double
    /// CPU time of the threaded WeChat stand-in (another process), when it was used.
    public let standInCPUSeconds: Double?
    public let dispatch: DispatchStats.Snapshot
    public let simulator: SimulatorStats
    public let latency: LatencySummary?
    /// Every openid's messages reached the simulator in the order their events were produced.
    public let inOrderPerOpenID: Bool
    /// Request records beyond the group's committed offsets after the dispatcher stopped; nil on
    /// Tansu (see `execute`).
    public let uncommitted: Int64?
    /// The `receipt` records read from the results topic (when a receipt callback was attached).
    public let receipts: [ReceiptRecord]

    init(
        events: [SampleEvents.Event], outcomes: [String: [OutcomeCollector.Received]], elapsed: Double,
        dispatcherUsage: DispatcherUsage, totalCPUSeconds: Double, standInCPUSeconds: Double?, dispatch: DispatchStats.Snapshot,
        simulator: SimulatorStats,
        generator: LoadGenerator, receipts: [ReceiptRecord] = [], uncommitted: Int64?
    ) {
        self.uncommitted = uncommitted
        self.receipts = receipts
        self.outcomes = outcomes
        self.elapsed = elapsed
        self.dispatcherUsage = dispatcherUsage
        self.totalCPUSeconds = totalCPUSeconds
        self.standInCPUSeconds = standInCPUSeconds
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

    /// Outcomes per second between the 10th and the 90th percentile of their times: the steady
    /// rate, without the start (first fetches, token) and the tail (the last openids' queues).
    public var midRunPerSecond: Double? { steadyRate(of: outcomes.values.compactMap { $0.first?.producedAt }) }

    public func count(_ status: String) -> Int { outcomes.values.filter { $0.first?.outcome.status == status }.count }

    /// When the stand-in delivered each message.
    public var deliveries: DeliveryTimes {
        DeliveryTimes(
            byOpenID: simulator.messagesByOpenID.filter { !$0.key.hasPrefix(LoadGenerator.warmUpPrefix) }.values.map {
                $0.map(\.receivedAt.timeIntervalSince1970)
            })
    }

    /// WeChat send calls the stand-in read for the run's events (warm-ups left out): one per
    /// event when nothing is repeated; fewer when a send never reached it.
    public var calls: Int {
        let warmUps = simulator.messagesByOpenID.keys.filter { $0.hasPrefix(LoadGenerator.warmUpPrefix) }.count
        return simulator.sendRequests - warmUps
    }

    /// Requests that ended `fate_unknown`: written without an answer, not sent again.
    public var fateUnknown: Int { outcomes.values.filter { $0.first?.outcome.reason?.hasPrefix("fate_unknown: ") == true }.count }

    /// Request ids with more than one outcome (allowed after a crash; not in a clean run).
    public var repeatedOutcomes: Int { outcomes.values.filter { $0.count > 1 }.count }
}
