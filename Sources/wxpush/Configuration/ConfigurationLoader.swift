import Dispatcher
import Foundation
import Kafka
import Logging
import WeChat
import Yams

/// Reads the configuration file and the rules file, applies environment overrides, resolves
/// secrets, and validates everything, collecting every problem instead of stopping at the first.
///
/// Environment: `WXPUSH_KAFKA_BROKERS`, `WXPUSH_WECHAT_API_BASE`, and per account
/// `WXPUSH_SECRET_<ACCOUNT>` (name upper-cased, other characters as `_`) unless `secret_env` names another.
struct ConfigurationLoader {
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Off for commands that never call WeChat (`topics`): a missing AppSecret is no problem there.
    var requiresSecrets = true

    func load(path: String) throws(ConfigurationProblems) -> ResolvedConfiguration {
        var problems: [String] = []
        guard let written = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationProblems(file: path, problems: ["cannot read the file; check the path given to --config"])
        }
        let text = EnvironmentOverrides.apply(environment, to: written, &problems)
        let file: ConfigurationFile
        do {
            file = try YAMLDecoder().decode(ConfigurationFile.self, from: text)
        } catch {
            throw ConfigurationProblems(file: path, problems: ["not a valid configuration: \(YAMLProblem(error))"])
        }
        problems += UnknownKeys.problems(in: text)
        let kafka = resolveKafka(file.kafka, &problems)
        let settings = resolveSettings(file, &problems)
        checkDrainFits(settings.drainTimeout, kafka, &problems)
        let (accounts, wechatHTTP) = resolveWeChat(file.wechat, &problems)
        var limits: [String: AccountLimits] = [:]
        for (name, account) in file.wechat?.accounts ?? [:] {
            guard let configured = account.limits else { continue }
            limits[name] = LimitsResolver.resolve(configured, field: "wechat.accounts.\(name).limits", &problems)
        }
        let http = HTTPResolver(environment: environment).resolve(file.http, &problems)
        var callbacks: [String: CallbackAuthenticator] = [:]
        for (name, account) in file.wechat?.accounts ?? [:] {
            let appID = account.appid ?? ""
            if let authenticator = HTTPResolver(environment: environment).callback(name: name, appID: appID, account.callback, &problems) {
                callbacks[name] = authenticator
            }
        }
        let rulesPath = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(file.rules ?? "rules.yaml").path
        let (rules, ruleBook) = RulesLoader.load(path: rulesPath, &problems)
        let logging = resolveLogging(file.logging, &problems)
        guard problems.isEmpty, let ruleBook, let rules else { throw ConfigurationProblems(file: path, problems: problems) }
        return ResolvedConfiguration(
            kafka: kafka, settings: settings, accounts: accounts, limits: limits, wechatHTTP: wechatHTTP,
            rules: rules, ruleBook: ruleBook, http: http, callbacks: callbacks, logging: logging
        )
    }

    /// `--config`'s default: `WXPUSH_CONFIG`, else the shipped file.
    static var defaultPath: String { ProcessInfo.processInfo.environment["WXPUSH_CONFIG"] ?? "config/wxpush.yaml" }

    private func resolveLogging(_ file: ConfigurationFile.Logging?, _ problems: inout [String]) -> LogSetup.Settings {
        var logging = LogSetup.Settings()
        if let text = file?.format {
            logging.format = LogSetup.Format(rawValue: text)
            if logging.format == nil { problems.append("logging.format: \"\(text)\"; use text or json") }
        }
        if let text = file?.level {
            logging.level = Logger.Level(rawValue: text)
            if logging.level == nil {
                problems.append("logging.level: \"\(text)\"; use trace, debug, info, notice, warning, error or critical")
            }
        }
        return logging
    }

    private func resolveKafka(_ file: ConfigurationFile.Kafka?, _ problems: inout [String]) -> KafkaConfiguration {
        let brokers = environment["WXPUSH_KAFKA_BROKERS"] ?? file?.brokers ?? ""
        if brokers.isEmpty { problems.append("kafka.brokers: missing; set it (host:port,…) or WXPUSH_KAFKA_BROKERS") }
        func resolved(_ properties: [String: String], _ field: String) -> [String: String] {
            properties.reduce(into: [:]) { all, property in
                all[property.key] = SecretReference.resolve(
                    property.value, field: "\(field).\(property.key)", environment: environment, &problems)
            }
        }
        var configuration = KafkaConfiguration(bootstrapServers: brokers, properties: resolved(file?.properties ?? [:], "kafka.properties"))
        configuration.producerProfiles = (file?.producers ?? [:]).reduce(into: [:]) { all, profile in
            all[profile.key] = resolved(profile.value, "kafka.producers.\(profile.key)")
        }
        problems += configuration.validate().map { "kafka.properties: \($0)" }
        for role in ProducerRole.allCases where configuration.producerProfiles[role.rawValue] != nil {
            let problem = role.configuration(configuration).validate().first { !problems.contains("kafka.properties: \($0)") }
            if let problem { problems.append("kafka.producers.\(role.rawValue): \(problem)") }
        }
        return configuration
    }

    private func resolveDelays(prefix: String?, tiers texts: [String]?, _ problems: inout [String]) -> DelayTiers {
        var tiers = DelayTiers.defaultTiers
        if let texts {
            tiers = []
            for text in texts {
                if let tier = DurationText.parse(text), tier >= .seconds(1), tier.components.attoseconds == 0 {
                    tiers.append(tier)
                } else {
                    problems.append(
                        "dispatcher.delay_tiers: \"\(text)\" is not a whole number of seconds of at least 1s; write it like 30s, 5m or 1h")
                }
            }
        }
        return DelayTiers(prefix: prefix ?? "wxpush.delay", tiers: tiers)
    }

    private func resolveSettings(_ file: ConfigurationFile, _ problems: inout [String]) -> DispatcherSettings {
        var settings = DispatcherSettings()
        let topics = file.kafka?.topics
        if let entries = topics?.requests?.entries {
            resolveRequestTopics(entries, into: &settings, &problems)
        }
        settings.resultsTopic = topics?.results ?? settings.resultsTopic
        settings.deadLetterTopic = topics?.dlq ?? settings.deadLetterTopic
        settings.progressTopic = topics?.progress ?? settings.progressTopic
        settings.msgidsTopic = topics?.msgids ?? settings.msgidsTopic
        settings.sentTopic = topics?.sent ?? settings.sentTopic
        settings.demandTopic = topics?.demand ?? settings.demandTopic
        settings.recipientsTopic = topics?.recipients ?? settings.recipientsTopic
        settings.groupID = file.kafka?.group ?? settings.groupID
        settings.delays = resolveDelays(prefix: topics?.delays, tiers: file.dispatcher?.delayTiers, &problems)
        for (field, value) in [
            ("requests", settings.requestsTopic), ("results", settings.resultsTopic), ("dlq", settings.deadLetterTopic),
            ("progress", settings.progressTopic),
        ]
        where value.isEmpty {
            problems.append("kafka.topics.\(field): empty; give a topic name")
        }
        // Every topic by its setting; "" is a turned-off feed (or an empty name, reported above).
        let roles =
            settings.allRequestTopics.map { ("requests", $0) } + [
                ("results", settings.resultsTopic), ("dlq", settings.deadLetterTopic), ("progress", settings.progressTopic),
                ("msgids", settings.msgidsTopic), ("sent", settings.sentTopic), ("demand", settings.demandTopic),
                ("recipients", settings.recipientsTopic),
            ] + settings.delays.topics.map { ("delays", $0) }
        for (field, topic) in roles where !topic.isEmpty && !Self.isTopicName(topic) {
            problems.append(
                "kafka.topics.\(field): \"\(topic.prefix(60))\(topic.count > 60 ? "…" : "")\" is not a Kafka topic name; use at most 249 of a-z A-Z 0-9 . _ -"
            )
        }
        for (topic, fields) in Dictionary(grouping: roles.filter { !$0.1.isEmpty }, by: \.1) where fields.count > 1 {
            problems.append(
                "kafka.topics: \(topic) is named for \(fields.map(\.0).joined(separator: " and ")); each needs a topic of its own")
        }
        if settings.groupID.isEmpty { problems.append("kafka.group: empty; give the consumer group id") }
        let dispatcher = file.dispatcher
        if let window = dispatcher?.inFlight {
            if (1...10_000).contains(window) {
                settings.inFlightPerPartition = window
            } else {
                problems.append("dispatcher.in_flight: \(window) is out of range; use 1…10000 (records in flight per partition)")
            }
        }
        if let records = dispatcher?.buffer?.records {
            if records >= settings.inFlightPerPartition {
                settings.bufferedRecordsPerPartition = records
            } else {
                problems.append(
                    "dispatcher.buffer.records: \(records) is below in_flight (\(settings.inFlightPerPartition)); use at least that")
            }
        }
        if let text = dispatcher?.buffer?.bytes {
            if let bytes = ByteSizeText.parse(text), bytes >= 64 * 1024 {
                settings.bufferedBytesPerPartition = bytes
            } else {
                problems.append("dispatcher.buffer.bytes: \"\(text)\" is not a size of at least 64KiB; write it like 16MiB")
            }
        }
        settings.drainTimeout = duration(dispatcher?.drainTimeout, "dispatcher.drain_timeout", default: settings.drainTimeout, &problems)
        settings.commitInterval = duration(
            dispatcher?.commitInterval, "dispatcher.commit_interval", default: settings.commitInterval, &problems)
        settings.stallTimeout = duration(dispatcher?.stallTimeout, "dispatcher.stall_timeout", default: settings.stallTimeout, &problems)
        if dispatcher?.dedupWindow == "0" {
            settings.dedupWindow = .zero
        } else {
            settings.dedupWindow = duration(dispatcher?.dedupWindow, "dispatcher.dedup_window", default: settings.dedupWindow, &problems)
        }
        settings.exactlyOnce = dispatcher?.exactlyOnce ?? settings.exactlyOnce
        if let text = file.wechat?.templates?.check {
            if let mode = TemplateCatalog.Mode(rawValue: text) {
                settings.templateCheck = mode
            } else {
                problems.append("wechat.templates.check: \"\(text)\"; use strict, warn or off")
            }
        }
        settings.templateRefresh = duration(
            file.wechat?.templates?.refresh, "wechat.templates.refresh", default: settings.templateRefresh, &problems)
        if settings.templateRefresh < .seconds(1) {
            problems.append(
                "wechat.templates.refresh: \(settings.templateRefresh); use at least 1s (the libraries have a call quota of their own)")
        }
        if let share = dispatcher?.priorityMinShare {
            if share > 0 && share <= 0.5 {
                settings.priorityMinimumShare = share
            } else {
                problems.append(
                    "dispatcher.priority_min_share: \(share); use more than 0 and at most 0.5 (the lower priorities' part of a bound rate, so they are never starved)"
                )
            }
        }
        settings.instanceID = environment["WXPUSH_INSTANCE_ID"] ?? dispatcher?.instanceID ?? settings.instanceID
        let retry = dispatcher?.retry
        if let attempts = retry?.maxAttempts {
            if attempts >= 1 {
                settings.retry.maxAttempts = attempts
            } else {
                problems.append("dispatcher.retry.max_attempts: \(attempts); use 1 or more")
            }
        }
        settings.retry.initialBackoff = duration(
            retry?.initialBackoff, "dispatcher.retry.initial_backoff", default: settings.retry.initialBackoff, &problems)
        settings.retry.maxBackoff = duration(
            retry?.maxBackoff, "dispatcher.retry.max_backoff", default: settings.retry.maxBackoff, &problems)
        settings.retry.deadline = duration(retry?.deadline, "dispatcher.retry.deadline", default: settings.retry.deadline, &problems)
        for (field, value) in [
            ("commit_interval", settings.commitInterval), ("drain_timeout", settings.drainTimeout),
            ("stall_timeout", settings.stallTimeout), ("retry.initial_backoff", settings.retry.initialBackoff),
            ("retry.deadline", settings.retry.deadline),
        ] where value <= .zero {
            problems.append("dispatcher.\(field): \(value); use a positive duration")
        }
        if settings.retry.initialBackoff > settings.retry.maxBackoff {
            problems.append(
                "dispatcher.retry.initial_backoff: \(settings.retry.initialBackoff) is above max_backoff (\(settings.retry.maxBackoff)); keep it at most that"
            )
        }
        return settings
    }

    /// One topic, or several with a priority each; the lowest priority is `requestsTopic` (the
    /// intake's, and the one benches and tools mean).
    private func resolveRequestTopics(
        _ entries: [ConfigurationFile.RequestTopics.Entry], into settings: inout DispatcherSettings, _ problems: inout [String]
    ) {
        guard !entries.isEmpty else { return problems.append("kafka.topics.requests: an empty list; name at least one topic") }
        if Set(entries.map(\.topic)).count != entries.count {
            problems.append("kafka.topics.requests: a topic is listed twice")
        }
        let lowest = entries.min { ($0.priority ?? 0) < ($1.priority ?? 0) }!
        settings.requestsTopic = lowest.topic
        settings.priorities = entries.count > 1 ? Dictionary(entries.map { ($0.topic, $0.priority ?? 0) }) { a, _ in a } : [:]
    }

    private func resolveWeChat(_ file: ConfigurationFile.WeChat?, _ problems: inout [String]) -> ([WeChatAccount], WeChatHTTPSettings) {
        let apiBase = environment["WXPUSH_WECHAT_API_BASE"] ?? file?.apiBase ?? "https://api.weixin.qq.com"
        checkURL(apiBase, "wechat.api_base", &problems)
        var http = WeChatHTTPSettings()
        http.responseTimeout = duration(file?.requestTimeout, "wechat.request_timeout", default: http.responseTimeout, &problems)
        http.connectTimeout = duration(file?.connectTimeout, "wechat.connect_timeout", default: http.connectTimeout, &problems)
        http.idleTimeout = duration(file?.idleTimeout, "wechat.idle_timeout", default: http.idleTimeout, &problems)
        for (field, value) in [("request_timeout", http.responseTimeout), ("connect_timeout", http.connectTimeout)] where value <= .zero {
            problems.append("wechat.\(field): \(value); use a positive duration")
        }
        http.maxConnections = file?.maxConnections ?? http.maxConnections
        if http.maxConnections < 1 { problems.append("wechat.max_connections: \(http.maxConnections); use 1 or more") }
        guard let accounts = file?.accounts, !accounts.isEmpty else {
            problems.append("wechat.accounts: none; configure at least one account (appid, secret) named default")
            return ([], http)
        }
        let resolved = accounts.sorted { $0.key < $1.key }.compactMap { name, account in
            AccountResolver(environment: environment, defaultAPIBase: apiBase, requiresSecrets: requiresSecrets).resolve(
                name: name, account, &problems)
        }
        return (resolved, http)
    }

    /// A drain must end while the group still counts this member in: within the session timeout
    /// and the poll interval, or the final commit is refused and the drained work is redone.
    private func checkDrainFits(_ drain: Duration, _ kafka: KafkaConfiguration, _ problems: inout [String]) {
        for (key, librdkafkaDefault) in [("session.timeout.ms", "45000"), ("max.poll.interval.ms", "300000")] {
            let text = kafka.consumerProperty(key) ?? librdkafkaDefault
            guard let milliseconds = Int64(text), drain >= .milliseconds(milliseconds) else { continue }
            problems.append(
                "dispatcher.drain_timeout: \(drain) does not fit within kafka.properties \(key) (\(milliseconds) ms); lower drain_timeout or raise \(key)"
            )
        }
    }

    /// Kafka's rule for topic names (what the brokers accept).
    static func isTopicName(_ name: String) -> Bool {
        (1...249).contains(name.utf8.count) && name != "." && name != ".."
            && name.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }
    }

    private func duration(_ text: String?, _ field: String, default value: Duration, _ problems: inout [String]) -> Duration {
        guard let text else { return value }
        guard let parsed = DurationText.parse(text) else {
            problems.append("\(field): \"\(text)\" is not a duration up to 30 days; write it like 250ms, 10s or 2m")
            return value
        }
        return parsed
    }
}

func checkURL(_ text: String, _ field: String, _ problems: inout [String]) {
    guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
        problems.append("\(field): \"\(text)\" is not an http(s) URL; e.g. https://api.weixin.qq.com")
        return
    }
}

/// A YAML decoding error described by the path of the field.
struct YAMLProblem: CustomStringConvertible {
    let error: any Error
    init(_ error: any Error) { self.error = error }
    var description: String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(type), found nothing"
        case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
        case .dataCorrupted(let context):
            // Yams' own error says where (line and column): a duplicate key, a bad indent.
            let at = context.codingPath.isEmpty ? "" : "\(path(context.codingPath)): "
            return at + (context.underlyingError.map { Self.located("\($0)") } ?? context.debugDescription)
        @unknown default: return "\(error)"
        }
    }
    /// Yams' message without the lines of the file it quotes (they may hold a secret): the
    /// reason and where it is.
    static func located(_ message: String) -> String {
        let lines = message.split(separator: "\n").map(String.init)
        var text = lines.first ?? message
        if lines.count > 1, lines[1].hasSuffix(":"), lines[1] != "Context:" { text += "; " + lines[1].dropLast() }
        if !text.contains(" line "), let location = lines.last?.range(of: "in line ") {
            text += " (\(lines.last![location.lowerBound...]))"
        }
        return text
    }

    private func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
