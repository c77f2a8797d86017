import Dispatcher
import Foundation
import Kafka
import Logging
import Simulator

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `parked` requests with a `not_before` `wait` ahead, through one `wxpush run` child with the
/// delay topics, and the same number of immediate ones before and while they wait: what parking
/// costs the child (memory, the others' time) and whether any went early.
public struct DeferRun: Sendable {
    public var parked: Int
    public var wait: Duration
    /// Immediate requests per measurement (before parking, and while parked).
    public var immediate: Int
    /// Enough that every partition stays under the embedded cluster's 5 MB.
    public var partitions = 24

    public init(parked: Int, wait: Duration, immediate: Int) {
        self.parked = parked
        self.wait = wait
        self.immediate = immediate
    }

    public struct Result: Sendable {
        /// Seconds for `immediate` requests to all have outcomes, with nothing parked and while parked.
        public let immediateAlone: Double
        public let immediateWhileParked: Double
        /// Seconds from producing the parked requests until the child had moved them all to the delay topics.
        public let parkingSeconds: Double
        /// The child's peak RSS (MiB) after warm-up and the first immediate batch, while parked, and at the end.
        public let peakBefore: Double
        public let peakWhileParked: Double
        public let peakAtEnd: Double
        /// Records written to the delay topics (first copies and hops).
        public let delayRecords: Int64
        /// Seconds from the release until the last parked request was delivered.
        public let drainSeconds: Double
        /// Parked requests delivered before their release (must be 0), and delivered in all.
        public let early: Int
        public let delivered: Int
        public let byStatus: [String: Int]
    }

    public func execute(executable: String, rulesYAML: String, logger: Logger) async throws -> Result {
        var simulator = SimulatorConfiguration()
        simulator.dailyQuota = Int.max
        simulator.latency = .milliseconds(20)
        let pipeline = try await EmbeddedPipeline.start(partitions: partitions, simulator: simulator, delays: true, logger: logger)
        let collector = try OutcomeCollector(kafka: pipeline.kafka, topic: pipeline.settings.resultsTopic)
        collector.start()
        var child: DispatcherProcess?
        func stopAll() async {
            _ = try? await child?.stop()
            await collector.stop()
            await pipeline.stop()
        }
        do {
            try await waitForAssignment(collector.consumer, partitions: pipeline.resultsPartitions)
            let load = try LoadGenerator(kafka: pipeline.kafka, topic: pipeline.settings.requestsTopic)
            var options = RunOptions(inFlight: 64)
            options.httpPort = try freeLocalPort()
            let port = options.httpPort
            let running = try DispatcherProcess.wxpush(
                executable: executable, pipeline: pipeline, rulesYAML: rulesYAML, options: options)
            child = running
            try await load.produce([Self.event("warm", notBefore: nil)])
            try await collector.waitFor(ids: 1, timeout: .seconds(60))

            func immediateBatch(_ name: String) async throws -> Double {
                let started = ContinuousClock.now
                let target = collector.distinctIDs + immediate
                try await load.produce((0..<immediate).map { Self.event("\(name)-\($0)", notBefore: nil) })
                try await collector.waitFor(ids: target, timeout: .seconds(300))
                return (ContinuousClock.now - started).seconds
            }
            let alone = try await immediateBatch("alone")
            let peakBefore = running.usage.peakResidentMiB

            let pid = running.pid
            let sampler = Task {
                while !Task.isCancelled {
                    if ProcessInfo.processInfo.environment["WXPUSH_BENCH_TRACE"] != nil {
                        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
                        print(
                            Date(),
                            status.split(separator: "\n").filter { $0.hasPrefix("VmRSS") || $0.hasPrefix("RssAnon") }.joined(separator: " ")
                        )
                    }
                    try? await Task.sleep(for: .seconds(2))
                }
            }
            defer { sampler.cancel() }
            let release = Date().addingTimeInterval(wait.seconds)
            let parkStarted = ContinuousClock.now
            try await load.produce((0..<parked).map { Self.event("parked-\($0)", notBefore: release) })
            // Moved once the child's counter of requests sent to the delay topics reaches them all.
            while case let moved = await Self.deferredCount(port: port), moved < parked {
                guard Date() < release else {
                    throw HarnessError("only \(moved) of \(parked) parked requests were moved to the delay topics before their release")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let parkingSeconds = (ContinuousClock.now - parkStarted).seconds
            let whileParked = try await immediateBatch("meanwhile")
            let peakWhileParked = running.usage.peakResidentMiB

            try await collector.waitFor(ids: 1 + 2 * immediate + parked, timeout: wait + .seconds(600))
            let peakAtEnd = running.usage.peakResidentMiB
            let delayRecords = try await Self.delayRecords(pipeline)
            let status = try await running.stop()
            child = nil
            guard status == 0 else { throw HarnessError("wxpush run exited with status \(status) after SIGTERM") }
            let deliveries = try await pipeline.wechatStats().messagesByOpenID
            let parkedTimes = (0..<parked).compactMap { deliveries["o-parked-\($0)"]?.first?.receivedAt }
            var byStatus: [String: Int] = [:]
            for (id, received) in collector.all where id.hasPrefix("parked-") { byStatus[received[0].outcome.status, default: 0] += 1 }
            await stopAll()
            return Result(
                immediateAlone: alone, immediateWhileParked: whileParked, parkingSeconds: parkingSeconds, peakBefore: peakBefore,
                peakWhileParked: peakWhileParked, peakAtEnd: peakAtEnd, delayRecords: delayRecords,
                drainSeconds: (parkedTimes.max() ?? release).timeIntervalSince(release),
                early: parkedTimes.filter { $0 < release }.count, delivered: parkedTimes.count, byStatus: byStatus)
        } catch {
            await stopAll()
            throw error
        }
    }

    /// Records written to the delay topics (their high watermarks; transaction markers included).
    static func delayRecords(_ pipeline: EmbeddedPipeline) async throws -> Int64 {
        let reader = try KafkaPartitionReader(configuration: pipeline.kafka)
        var total: Int64 = 0
        for topic in pipeline.settings.delays.topics {
            for partition in 0..<Int32(pipeline.requestPartitions) {
                total += try await reader.watermarks(for: TopicPartition(topic: topic, partition: partition)).high
            }
        }
        return total
    }

    /// `wxpush_requests_deferred_total` on the child's `/metrics` (0 while it does not answer).
    static func deferredCount(port: Int) async -> Int {
        guard let url = URL(string: "http://127.0.0.1:\(port)/metrics"),
            let (data, _) = try? await URLSession.shared.data(from: url)
        else { return 0 }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("wxpush_requests_deferred_total ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

    static func event(_ id: String, notBefore: Date?) -> SampleEvents.Event {
        let deferral = notBefore.map { #","not_before":"\#(Timestamp.format($0))""# } ?? ""
        let json =
            #"{"v":1,"id":"\#(id)","to":"o-\#(id)","type":"order.shipped"\#(deferral),"data":{"order":{"id":"\#(id)","carrier":"SF","eta":"1d"}}}"#
        return SampleEvents.Event(id: id, openid: "o-\(id)", bytes: Array(json.utf8))
    }
}
