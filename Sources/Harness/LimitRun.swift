import Foundation
import Logging
import Simulator

/// `instances` `wxpush run` children in one group against one simulator, the default account
/// limited by `limits`, demand far above it: what the group delivered, measured at the simulator.
public struct LimitRun: Sendable {
    public var instances: Int
    public var events: Int
    public var openids: Int
    /// The default account's `limits` as a YAML flow map, e.g. `{ rate: 100/s }`; nil: unlimited.
    public var limits: String?
    /// nil: the load is spread over every partition (keyed by openid); else only these get it.
    public var loadedPartitions: [Int32]?
    public var partitions = 6
    /// WeChat's side of the limit at the simulator (45011 above it); nil: none.
    public var simulatorRate: RateLimit?
    /// Shares re-divided by demand (the demand topic), or by partitions only.
    public var demandExchange = true
    /// The load arrives at this many events per second, one at a time; nil: all at once.
    public var producedPerSecond: Int?

    public init(instances: Int, events: Int, openids: Int, limits: String?, loadedPartitions: [Int32]? = nil) {
        self.instances = instances
        self.events = events
        self.openids = openids
        self.limits = limits
        self.loadedPartitions = loadedPartitions
    }

    public struct Result: Sendable {
        /// Deliveries per second between the 10th and 90th percentile of their arrival at the simulator.
        public let deliveredPerSecond: Double
        public let byStatus: [String: Int]
        public let errorsByCode: [String: Int]
        public let seconds: Double
        /// The instances' CPU time (user + system, together) per 1,000 outcomes.
        public let cpuMillisecondsPerThousand: Double
    }

    public func execute(executable: String, logger: Logger) async throws -> Result {
        var simulator = SimulatorConfiguration()
        simulator.dailyQuota = Int.max
        simulator.rateLimit = simulatorRate
        let pipeline = try await EmbeddedPipeline.start(partitions: partitions, simulator: simulator, logger: logger)
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        var children: [DispatcherProcess] = []
        func stopAll() async {
            for child in children { _ = try? await child.stop() }
            await collector.stop()
            await pipeline.stop()
        }
        do {
            try await waitForAssignment(collector.consumer, partitions: pipeline.resultsPartitions)
            var logs: [URL] = []
            for _ in 0..<instances {
                var options = RunOptions(inFlight: 32)
                options.defaultInstanceID = true  // as a user starts them: the same file for each
                options.limits = limits
                options.demandExchange = demandExchange
                let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-limits-\(UUID().uuidString.prefix(8)).log")
                logs.append(log)
                children.append(
                    try DispatcherProcess.wxpush(
                        executable: executable, pipeline: pipeline, rulesYAML: "rules: {}\n", options: options, log: log))
            }
            // Every instance in the group, holding its share, before the load arrives.
            if limits != nil { try await Self.waitForShares(logs: logs, partitions: partitions, timeout: .seconds(60)) }
            for log in logs { try? FileManager.default.removeItem(at: log) }
            let started = ContinuousClock.now
            let load = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
            let all = SampleEvents.make(count: events, openids: openids, shape: .raw)
            if let rate = producedPerSecond {
                // One at a time, as a limited backlog leaves (a record every 1/rate s).
                var next = ContinuousClock.now
                for event in all {
                    try await load.produce([event], onlyTo: loadedPartitions, flush: false)
                    next += .seconds(1.0 / Double(max(1, rate)))
                    try await Task.sleep(until: next)
                }
                try await load.produce([], flush: true)
            } else {
                try await load.produce(all, onlyTo: loadedPartitions)
            }
            try await collector.waitFor(ids: events, timeout: .seconds(600))
            let seconds = (ContinuousClock.now - started).seconds
            let cpuSeconds = children.map(\.usage.cpuSeconds).reduce(0, +)
            for child in children {
                let status = try await child.stop()
                guard status == 0 else { throw HarnessError("wxpush run exited with status \(status) after SIGTERM") }
            }
            children = []
            let stats = pipeline.simulator.stats
            var byStatus: [String: Int] = [:]
            for received in collector.all.values { byStatus[received[0].outcome.status, default: 0] += 1 }
            await stopAll()
            return Result(
                deliveredPerSecond: Self.midRunRate(stats), byStatus: byStatus, errorsByCode: stats.errorsByCode, seconds: seconds,
                cpuMillisecondsPerThousand: cpuSeconds * 1_000_000 / Double(max(1, events)))
        } catch {
            await stopAll()
            throw error
        }
    }

    /// Waits until the instances logging to `logs` hold shares that add up to all `partitions`
    /// (each one's latest `limits: share K/N partitions` line): the group is stable.
    public static func waitForShares(logs: [URL], partitions: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let shares = logs.map { latestShare(in: $0) }
            if shares.allSatisfy({ $0 != nil }), shares.reduce(0, { $0 + ($1 ?? 0) }) == partitions { return }
            guard ContinuousClock.now < deadline else {
                throw HarnessError("the instances' shares never added up to \(partitions) partitions (latest: \(shares))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The K of the last `limits: share K/N partitions` line an instance logged.
    static func latestShare(in log: URL) -> Int? {
        guard let text = try? String(contentsOf: log, encoding: .utf8),
            let line = text.split(separator: "\n").last(where: { $0.contains("limits: share ") }),
            let range = line.range(of: "limits: share ")
        else { return nil }
        return Int(line[range.upperBound...].prefix { $0.isNumber })
    }

    /// Deliveries per second at the simulator, between the 10th and the 90th percentile of their
    /// arrival (`steadyRate`); 0 for too few.
    public static func midRunRate(_ stats: SimulatorStats) -> Double {
        steadyRate(of: stats.messagesByOpenID.values.flatMap { $0.map(\.receivedAt.timeIntervalSince1970) }) ?? 0
    }
}
