import ArgumentParser
import Dispatcher
import Foundation
import Harness
import Kafka
import Logging
import Waiting
import Yams

/// `wxpush bench dispatch`: end-to-end throughput and latency on the embedded default, against
/// the straightforward design (one send at a time per partition) measured in the same run.
struct DispatchBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispatch",
        abstract: "Events through Kafka → dispatcher → WeChat simulator → outcomes, with an in-flight window of 1 as the baseline."
    )

    @Option(name: .short, help: "Events in the main run.")
    var count: Int = 100_000

    @Option(name: .short, help: "Distinct openids (default: one per 10 events, so each gets several in order).")
    var keys: Int?

    @Option(help: "Simulated WeChat latency, e.g. 50ms or 0ms.")
    var latency: String = "50ms"

    @Option(help: "Records in flight per partition in the main run.")
    var inFlight: Int = 64

    @Option(help: "Partitions of the requests topic.")
    var partitions: Int = 6

    @Option(help: "Events in the baseline run (window 1 is slow; its rate is steady after a few hundred).")
    var baselineCount: Int = 3_000

    @Flag(help: "Skip the baseline run.")
    var noBaseline = false

    @Flag(help: "Run the dispatcher in this process instead of as a `wxpush run` child process.")
    var inProcess = false

    @Option(help: "Outcomes and offsets in Kafka transactions: on, off, or both (main run twice, same baseline).")
    var exactlyOnce: ExactlyOnceChoice = .on

    @Option(
        help:
            "Repeated-id answers (dispatcher.dedup_window) and suppression (the recipients topic) in the child: on (the default config), off, or both (main run twice)."
    )
    var judgement: ExactlyOnceChoice = .on

    @Option(help: "Who answers the WeChat calls: builtin (the simulator) or threaded (a plain Python thread-per-connection server).")
    var server: WeChatStandIn = .builtin

    @Option(
        help: "Message kind: template (WeChat de-duplicates a repeat by client_msg_id) or bizsend (it does not: a repeat reaches the user)."
    )
    var kind: Kind = .template

    @Option(help: "Listen backlog of the threaded stand-in (Python's default is 5; an untuned server drops connects beyond it).")
    var standinBacklog = 5

    @Option(help: "Also run a peer dispatcher on the same workload right after wxpush and print the ratios: go.")
    var peer: Peer?

    @Option(help: "Where the Go peer's sources are (its build.sh installs Go and sarama with apt when missing).")
    var peerDirectory = "../shared/peers/go-dispatcher"

    @Option(
        help:
            "The Kafka to run on: embedded (librdkafka's mock cluster) or tansu (a Tansu broker; needs librdkafka 2.16 through LD_LIBRARY_PATH)."
    )
    var broker: BrokerChoice = .embedded

    @Option(help: "The Tansu broker executable (scripts/test sets one up in .kafka-lane/).")
    var tansu = ProcessInfo.processInfo.environment["WXPUSH_TANSU"] ?? ".kafka-lane/tansu"

    enum BrokerChoice: String, ExpressibleByArgument { case embedded, tansu }

    @Option(help: "The child's kafka.producers, a YAML flow map, e.g. '{ sent_log: { linger.ms: \"5\" } }'.")
    var producers: String?

    enum Peer: String, ExpressibleByArgument { case go }
    enum Kind: String, ExpressibleByArgument { case template, bizsend }

    enum ExactlyOnceChoice: String, ExpressibleByArgument, CaseIterable {
        case on, off, both
        var modes: [Bool] { self == .both ? [true, false] : [self == .on] }
    }

    private var openids: Int { keys ?? max(count / 10, 1) }
    /// The peer sends only pre-rendered messages: with it, both get those; without, the rule renders.
    /// bizsend events are pre-rendered too (the peer posts every message to template/send).
    private var shape: SampleEvents.Shape { kind == .bizsend ? .rawSubscribe : peer == nil ? .rules : .raw }

    func run() async throws {
        LogSetup.bootstrap(defaultLevel: .warning)
        let logger = Logger(label: "wxpush.bench")
        guard let simulatedLatency = DurationText.parse(latency) else { throw ValidationError("--latency \(latency): write it like 50ms") }
        let rules = try RuleBook(YAMLDecoder().decode(RulesFile.self, from: BenchRules.yaml))
        print(
            "bench dispatch: \(count) \(shape == .rules ? "rule" : "pre-rendered \(kind.rawValue)") events over \(openids) openids, \(partitions) partitions, "
                + "latency \(latency), window \(inFlight), WeChat stand-in \(server.rawValue)"
                + (server == .threaded ? " (listen backlog \(standinBacklog))" : ""))
        print(
            inProcess
                ? "  dispatcher in this process: CPU and RSS include the broker, simulator, load generator and outcome reader"
                : "  dispatcher: `wxpush run` as a child process; broker, simulator, load and outcome reader in this one")
        print(
            "  librdkafka \(KafkaLibrary.version), broker \(broker == .tansu ? "Tansu (\(tansu))" : "embedded (librdkafka's mock cluster)")"
                + (producers.map { ", kafka.producers \($0)" } ?? ""))
        if broker == .tansu && KafkaLibrary.version.hasPrefix("2.0.") {
            throw ValidationError(
                "--broker tansu: librdkafka \(KafkaLibrary.version) cannot talk to Tansu; run with LD_LIBRARY_PATH=.kafka-lane/lib (librdkafka 2.16)"
            )
        }
        let peerExecutable = peer.flatMap { _ in GoPeer.build(directory: peerDirectory) }

        var mains: [(exactlyOnce: Bool, measurement: Measurement)] = []
        var judged: [(on: Bool, measurement: Measurement)] = []
        for mode in exactlyOnce.modes {
            for judging in judgement.modes {
                let main = try await measure(
                    count: count, window: inFlight, exactlyOnce: mode, latency: simulatedLatency, rules: rules, logger: logger,
                    judgement: judging)
                print(
                    main.line(
                        "main    (window \(inFlight), exactly-once \(mode ? "on" : "off"), dedup + suppression \(judging ? "on" : "off"))"))
                print(main.wholeRun)
                let seconds = simulatedLatency.seconds
                if seconds > 0 {
                    let bound = Double(partitions * inFlight) / seconds
                    print(
                        String(
                            format: "  window bound %.0f events/s (partitions × window / latency): %.0f%% of it", bound,
                            100 * main.eventsPerSecond / bound))
                }
                print(main.resources)
                if judging == judgement.modes[0] { mains.append((mode, main)) }
                if mode == exactlyOnce.modes[0] { judged.append((judging, main)) }
            }
        }
        if let on = judged.first(where: \.on)?.measurement, let off = judged.first(where: { !$0.on })?.measurement {
            print(
                String(
                    format: "ratio dedup + suppression on/off: events/s %.2f×, mid-run %.2f×, CPU per 1,000 events %.2f×, peak RSS %.2f×",
                    on.eventsPerSecond / off.eventsPerSecond, on.midRunPerSecond / off.midRunPerSecond,
                    on.cpuPerThousand / max(off.cpuPerThousand, 1e-9),
                    on.result.dispatcherUsage.peakResidentMiB / max(off.result.dispatcherUsage.peakResidentMiB, 1e-9)))
        }
        if let peerExecutable {
            let peerRun = try await measure(
                count: count, window: inFlight, exactlyOnce: false, latency: simulatedLatency, rules: rules, logger: logger,
                placement: .goPeer(executable: peerExecutable))
            print(peerRun.line("go peer (window \(inFlight), at-least-once)"))
            print(peerRun.wholeRun)
            print(peerRun.resources)
            for (mode, main) in mains { print(main.comparison(to: peerRun, label: "exactly-once \(mode ? "on" : "off")")) }
        }
        guard !noBaseline else { return }
        let baseline = try await measure(
            count: min(baselineCount, count), window: 1, exactlyOnce: exactlyOnce != .off, latency: simulatedLatency, rules: rules,
            logger: logger, judgement: judgement.modes[0])
        print(baseline.line("baseline (window 1)"))
        print(baseline.resources)
        for (mode, main) in mains {
            print(
                String(
                    format: "ratio main/baseline (exactly-once %@): %.1f×", mode ? "on" : "off",
                    main.eventsPerSecond / baseline.eventsPerSecond))
        }
    }

    private func measure(
        count: Int, window: Int, exactlyOnce: Bool, latency: Duration, rules: RuleBook, logger: Logger,
        placement: PipelineRun.Placement? = nil, judgement: Bool = true
    ) async throws -> Measurement {
        var run = PipelineRun(events: SampleEvents.make(count: count, openids: openids, shape: shape), rules: rules)
        if let placement {
            run.placement = placement
        } else if !inProcess {
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
            run.placement = .childProcess(executable: executable, rulesYAML: BenchRules.yaml)
        }
        run.standIn = server
        run.partitions = partitions
        run.inFlight = window
        run.exactlyOnce = exactlyOnce
        run.judgement = judgement
        run.producers = producers
        run.broker = broker == .tansu ? .tansu(executable: tansu) : .embedded
        run.simulator.latency = latency
        run.simulator.dailyQuota = Int.max
        run.simulator.threadedBacklog = standinBacklog
        let result = try await run.execute(logger: logger)
        let unknown = result.fateUnknown
        // A send whose fate is unknown ends failed (not sent twice): reported, not a failed bench.
        guard result.count("sent") + unknown == count else {
            throw BenchFailure("only \(result.count("sent")) of \(count) sent: \(result.dispatch.byStatus)")
        }
        if unknown > 0 { print("  \(unknown) of \(count) ended failed, fate_unknown (written, then no answer; not sent twice)") }
        return Measurement(result: result, count: count)
    }
}

struct Measurement {
    let result: RunResult
    let count: Int
    var eventsPerSecond: Double { result.eventsPerSecond }

    var cpuPerThousand: Double { result.dispatcherUsage.cpuSeconds * 1000 / Double(count) }
    /// The steady rate (whole-run rate for runs too short to have a middle).
    var midRunPerSecond: Double { result.midRunPerSecond ?? eventsPerSecond }

    func line(_ label: String) -> String {
        let latency = result.latency.map { String(format: "p50 %.0f ms, p99 %.0f ms", $0.p50, $0.p99) } ?? "n/a"
        return String(
            format:
                "%@: %.0f events/s (%.0f/s mid-run), %@, most concurrent requests at the server %d, token fetches %d, duplicates %d, in order %@, uncommitted %@",
            label, eventsPerSecond, midRunPerSecond, latency, result.simulator.maxConcurrentSends, result.simulator.tokenFetches,
            result.simulator.duplicates, result.inOrderPerOpenID ? "yes" : "NO",
            result.uncommitted.map(String.init) ?? "n/a (Tansu's high watermark is wrong)"
        )
    }

    /// The whole run at WeChat: where the stalls and repeats show (the mid-run rate hides both).
    var wholeRun: String {
        let deliveries = result.deliveries
        return String(
            format:
                "  at WeChat: first to last delivery %.2f s, %.0f deliveries/s over their 10th–60th percentile; %d calls for %d events, duplicate deliveries %d, longest wait between one openid's deliveries %.2f s",
            deliveries.firstToLast, deliveries.rate10to60 ?? 0, result.calls, count, result.simulator.duplicates,
            deliveries.longestGapPerOpenID)
    }

    /// This run against the peer's, as the ratios the performance goals are written in.
    func comparison(to peer: Measurement, label: String) -> String {
        String(
            format:
                "ratio wxpush (%@) / go peer: first to last delivery %.2f×, deliveries/s mid-run %.2f×, events/s %.2f×, CPU per 1,000 events %.2f×, peak RSS %.2f×",
            label, result.deliveries.firstToLast / max(peer.result.deliveries.firstToLast, 1e-9), midRunPerSecond / peer.midRunPerSecond,
            eventsPerSecond / peer.eventsPerSecond,
            cpuPerThousand / max(peer.cpuPerThousand, 1e-9),
            result.dispatcherUsage.peakResidentMiB / max(peer.result.dispatcherUsage.peakResidentMiB, 1e-9))
    }

    var resources: String {
        let usage = result.dispatcherUsage
        let perThousand = 1000 / Double(count)
        let standIn = result.standInCPUSeconds.map {
            String(
                format: "; the threaded WeChat stand-in: CPU %.2f s per 1,000 events, %.0f%% of a core", $0 * perThousand,
                100 * $0 / result.elapsed)
        }
        return String(
            format:
                "  dispatcher CPU %.2f s per 1,000 events, peak RSS %.0f MiB%@; everything in this process: CPU %.2f s per 1,000 events%@",
            usage.cpuSeconds * perThousand, usage.peakResidentMiB, usage.isolated ? "" : " (whole process)",
            result.totalCPUSeconds * perThousand, standIn ?? ""
        )
    }
}

/// The bench's one rule, as a rules file: the child process reads it from disk.
enum BenchRules {
    static let yaml = """
        rules:
          order.shipped:
            kind: template
            template_id: TEMPLATE_ORDER_SHIPPED
            url: "https://shop.example.com/orders/{{order.id}}"
            data:
              keyword1: "{{order.id}}"
              keyword2: "{{order.carrier}}"
              keyword3: "{{order.eta}}"
        """
}
