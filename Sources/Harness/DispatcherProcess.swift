import Foundation
import Kafka

/// A dispatcher as a child process against an embedded pipeline (`wxpush run`, or the Go peer), so
/// a benchmark can measure its own CPU time and peak memory apart from the broker, simulator and
/// load generator.
final class DispatcherProcess: Sendable {
    private let process: Process
    /// Removed once the process has stopped.
    private let scratch: URL?

    private init(executable: String, arguments: [String], environment: [String: String], scratch: URL?, log: URL? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let log {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: log)
        }
        self.scratch = scratch
        try process.run()
    }

    /// Writes a configuration for `pipeline` next to `rulesYAML` and starts `executable run`; it
    /// logs warnings to this process's stderr, or everything from info up to `log`.
    static func wxpush(
        executable: String, pipeline: EmbeddedPipeline, rulesYAML: String, options: RunOptions, log: URL? = nil
    ) throws -> DispatcherProcess {
        let configFile = try pipeline.writeRunConfiguration(rulesYAML: rulesYAML, options)
        return try DispatcherProcess(
            executable: executable, arguments: ["run", "--config", configFile.path],
            environment: ["WXPUSH_SECRET_DEFAULT": pipeline.account.secret, "WXPUSH_LOG_LEVEL": log == nil ? "warning" : "info"],
            scratch: configFile.deletingLastPathComponent(), log: log)
    }

    /// Starts `../shared/peers/go-dispatcher` (its README gives this interface) on the pipeline's
    /// topics, group and WeChat stand-in, with `window` sends per partition.
    static func goPeer(executable: String, pipeline: EmbeddedPipeline, window: Int) throws -> DispatcherProcess {
        let settings = pipeline.settings
        return try DispatcherProcess(
            executable: executable,
            arguments: [
                "-window", String(window), "-group", settings.groupID, "-appid", pipeline.account.appID,
                "-requests", settings.requestsTopic, "-results", settings.resultsTopic,
            ],
            environment: [
                "WXPUSH_KAFKA_BROKERS": pipeline.bootstrapServers, "WXPUSH_WECHAT_API_BASE": pipeline.simulatorURL,
                "WXPUSH_SECRET_DEFAULT": pipeline.account.secret,
            ],
            scratch: nil)
    }

    /// SIGTERM (drain, commit, exit), then waits at most `timeout`; returns the exit status.
    func stop(timeout: Duration = .seconds(60)) async throws -> Int32 {
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw HarnessError(
                    "\(process.executableURL?.lastPathComponent ?? "the dispatcher") did not exit within \(timeout) of SIGTERM")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        return process.terminationStatus
    }

    var pid: Int32 { process.processIdentifier }

    /// CPU seconds (user + system) and peak RSS so far, from /proc.
    var usage: DispatcherUsage { ProcessUsage.of(pid: process.processIdentifier) }
}

extension EmbeddedPipeline {
    /// A `wxpush run` configuration for this pipeline and its rules file, in a new temporary directory.
    /// A `wxpush run` configuration for this pipeline. Instances started from one file share their
    /// transactional id (a restart fences its previous run); give each concurrent one its own `instanceID`.
    public func writeRunConfiguration(rulesYAML: String, _ options: RunOptions) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-run-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let callback =
            options.callbackToken.map { token in
                ", callback: { token: \(token)\(options.callbackAESKey.map { ", encoding_aes_key: \($0)" } ?? "") }"
            } ?? ""
        let requests =
            options.priorityTopic.map { "[{ topic: \($0), priority: 1 }, { topic: \(settings.requestsTopic), priority: 0 }]" }
            ?? settings.requestsTopic
        let config = """
            http: { host: 127.0.0.1, port: \(options.httpPort)\(options.intakeToken.map { ", intake_token: \($0)" } ?? "")\(options.adminToken.map { ", admin_token: \($0)" } ?? "")\(options.httpLimits.map { ", \($0)" } ?? "") }
            kafka:
              brokers: \(bootstrapServers)
              group: \(settings.groupID)
              topics:
                { requests: \(requests), results: \(settings.resultsTopic), dlq: \(settings.deadLetterTopic),
                  progress: \(settings.progressTopic), msgids: \(settings.msgidsTopic), sent: \(options.sentLog ? settings.sentTopic : "\"\""),
                  demand: \(options.demandExchange ? settings.demandTopic : "\"\""), recipients: \(options.suppression ? settings.recipientsTopic : "\"\""),
                  delays: "\(settings.delays.prefix)" }
              properties: { session.timeout.ms: "\(options.sessionTimeoutMilliseconds)", heartbeat.interval.ms: "500" }
            \(options.producers.map { "  producers: \($0)" } ?? "")
            wechat:
              api_base: \(simulatorURL)
              request_timeout: \(options.requestTimeout)
            \(options.templates.map { "  templates: \($0)" } ?? "")
              accounts:
                default: { appid: \(account.appID), token_mode: stable\(options.limits.map { ", limits: \($0)" } ?? "")\(callback) }
            dispatcher:
              in_flight: \(options.inFlight)
              drain_timeout: \(options.drainTimeout)
              commit_interval: \(options.commitInterval)
              exactly_once: \(options.exactlyOnce)
            \(options.defaultInstanceID ? "" : "  instance_id: \(options.instanceID ?? "run-" + settings.groupID)")
              priority_min_share: \(options.priorityMinShare)
            \(options.dedupWindow.map { "  dedup_window: \($0)" } ?? "")
              delay_tiers: [\(settings.delays.tiers.map { "\($0.components.seconds)s" }.joined(separator: ", "))]
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
    /// No `instance_id` in the file, as a user starts each instance: the process-unique default.
    public var defaultInstanceID = false
    public var requestTimeout = "10s"
    public var maxAttempts = 5
    public var retryDeadline = "120s"
    public var maxBackoff = "30s"
    /// The default account's `limits`, as a YAML flow map: `{ rate: 100/s }`.
    public var limits: String?
    /// The HTTP server's port on 127.0.0.1; 0: no server.
    public var httpPort = 0
    /// The default account's callback Token (and EncodingAESKey for safe mode).
    public var callbackToken: String?
    public var callbackAESKey: String?
    /// The bearer token of `POST /v1/notifications`; nil: no intake.
    public var intakeToken: String?
    /// The bearer token of the operator endpoints; nil: none.
    public var adminToken: String?
    /// More of the `http` map, e.g. `max_connections: 300, header_timeout: 2s`.
    public var httpLimits: String?
    /// Limits re-divided by demand across instances (the demand topic); false: by partitions only.
    public var demandExchange = true
    /// Sends recorded in the sent log before their outcomes (`kafka.topics.sent`); false: not kept.
    public var sentLog = true
    /// A second requests topic, of priority 1 (the pipeline's own has 0); nil: one topic.
    public var priorityTopic: String?
    public var priorityMinShare = 0.1
    /// The group session timeout. The embedded cluster waits this minus a second before the
    /// second round of a cooperative rebalance (a real broker goes on once every member rejoined).
    public var sessionTimeoutMilliseconds = 6_000
    /// `dispatcher.dedup_window` (`0` turns it off); nil: the default (24h).
    public var dedupWindow: String?
    /// The recipients topic read and written (suppression); false: `recipients: ""`.
    public var suppression = true
    /// `wechat.templates` as a YAML flow map, e.g. `{ check: strict, refresh: 1s }`; nil: the defaults.
    public var templates: String?
    /// `kafka.producers` as a YAML flow map (per producer role, librdkafka properties); nil: none.
    public var producers: String?

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

/// A TCP port free on 127.0.0.1 now (the kernel's pick), for a child's HTTP server.
public func freeLocalPort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw HarnessError("socket() failed") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
        }
    }
    guard bound else { throw HarnessError("bind to a free port failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
