import Foundation
import Kafka

/// `wxpush run` as a child process against an embedded pipeline, so a benchmark can measure the
/// dispatcher's own CPU time and peak memory apart from the broker, simulator and load generator.
final class DispatcherProcess: Sendable {
    private let process: Process
    let configFile: URL

    /// Writes a configuration for `pipeline` next to `rulesYAML` and starts `executable run`.
    init(executable: String, pipeline: EmbeddedPipeline, rulesYAML: String, inFlight: Int, exactlyOnce: Bool) throws {
        configFile = try pipeline.writeRunConfiguration(rulesYAML: rulesYAML, inFlight: inFlight, exactlyOnce: exactlyOnce)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["run", "--config", configFile.path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["WXPUSH_SECRET_DEFAULT": pipeline.account.secret, "WXPUSH_LOG_LEVEL": "warning"]) { $1 }
        try process.run()
    }

    /// SIGTERM (drain, commit, exit), then waits at most `timeout`; returns the exit status.
    func stop(timeout: Duration = .seconds(60)) async throws -> Int32 {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw HarnessError("wxpush run did not exit within \(timeout) of SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? FileManager.default.removeItem(at: configFile.deletingLastPathComponent())
        return process.terminationStatus
    }

    /// CPU seconds (user + system) and peak RSS so far, from /proc.
    var usage: DispatcherUsage {
        let pid = process.processIdentifier
        var cpu = 0.0
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is the first, utime the 12th, stime the 13th, in clock ticks.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                cpu = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        var peak = 0.0
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        {
            peak = kibibytes / 1024
        }
        return DispatcherUsage(cpuSeconds: cpu, peakResidentMiB: peak, isolated: true)
    }
}

extension EmbeddedPipeline {
    /// A `wxpush run` configuration for this pipeline and its rules file, in a new temporary directory.
    /// A `wxpush run` configuration for this pipeline. Instances started from one file share their
    /// transactional id (a restart fences its previous run); give each concurrent one its own `instanceID`.
    public func writeRunConfiguration(rulesYAML: String, _ options: RunOptions) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = """
            kafka:
              brokers: \(cluster.bootstrapServers)
              group: \(settings.groupID)
              topics:
                { requests: \(settings.requestsTopic), results: \(settings.resultsTopic), dlq: \(settings.deadLetterTopic),
                  progress: \(settings.progressTopic) }
              properties: { session.timeout.ms: "6000", heartbeat.interval.ms: "500" }
            wechat:
              api_base: \(simulatorURL)
              request_timeout: \(options.requestTimeout)
              accounts:
                default: { appid: \(account.appID), token_mode: stable }
            dispatcher:
              in_flight: \(options.inFlight)
              drain_timeout: \(options.drainTimeout)
              commit_interval: \(options.commitInterval)
              exactly_once: \(options.exactlyOnce)
              instance_id: \(options.instanceID ?? "run-" + settings.groupID)
              retry: { max_attempts: \(options.maxAttempts), deadline: \(options.retryDeadline), max_backoff: \(options.maxBackoff) }
            rules: rules.yaml
            """
        let file = directory.appendingPathComponent("wxpush.yaml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        try rulesYAML.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        return file
    }

    public func writeRunConfiguration(rulesYAML: String, inFlight: Int, exactlyOnce: Bool = true) throws -> URL {
        try writeRunConfiguration(rulesYAML: rulesYAML, RunOptions(inFlight: inFlight, exactlyOnce: exactlyOnce))
    }
}

/// The settings of a `wxpush run` started by the harness, as written to its configuration file.
public struct RunOptions: Sendable {
    public var inFlight: Int
    public var drainTimeout = "4s"
    public var commitInterval = "500ms"
    public var exactlyOnce = true
    public var instanceID: String?
    public var requestTimeout = "10s"
    public var maxAttempts = 5
    public var retryDeadline = "120s"
    public var maxBackoff = "30s"

    public init(inFlight: Int, exactlyOnce: Bool = true, instanceID: String? = nil) {
        self.inFlight = inFlight
        self.exactlyOnce = exactlyOnce
        self.instanceID = instanceID
    }
}

/// What the dispatcher consumed; `isolated` is false when it shared its process with the rest.
public struct DispatcherUsage: Sendable {
    public var cpuSeconds: Double
    public var peakResidentMiB: Double
    public var isolated: Bool
}
