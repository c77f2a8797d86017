import Foundation
import Testing

@Suite("wxpush check-config")
struct CheckConfigTests {
    @Test("the shipped example passes when its secret is set")
    func example() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let check = try WXPushProcess(
            ["check-config", "--config", root.appendingPathComponent("config/wxpush.yaml").path],
            environment: ["WXPUSH_SECRET_DEFAULT": "s3cret"]
        )
        #expect(try await check.waitForExit() == 0)
        #expect(check.stdoutLines.first?.contains("OK") == true)
        #expect(!check.stdoutLines.joined().contains("s3cret"))
    }

    @Test("docker-compose's configuration passes with the secrets compose gives it")
    func composeConfiguration() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let check = try WXPushProcess(
            ["check-config", "--config", root.appendingPathComponent("config/wxpush.compose.yaml").path],
            environment: [
                "WXPUSH_SECRET_DEFAULT": "compose-app-secret", "WXPUSH_CALLBACK_TOKEN_DEFAULT": "composeCallbackToken",
                "WXPUSH_AES_KEY_DEFAULT": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                "WXPUSH_INTAKE_TOKEN": "compose-intake-token-change-me",
            ]
        )
        #expect(try await check.waitForExit() == 0)
    }

    @Test("a broken configuration lists every problem with its field, and exits 1")
    func everyProblem() async throws {
        let report = try await Self.refused(
            config: """
                kafka:
                  group: wxpush
                  topics: { requests: same, results: same }
                  properties: { no.such.property: "1" }
                wechat:
                  api_base: not-a-url
                  request_timeout: soon
                  accounts:
                    default: { token_mode: magic, limits: { rate: fast, burst: 0, daily_quota: -1, quota_reset: noon } }
                    second: { appid: wx2, token_mode: central }
                dispatcher:
                  in_flight: 0
                  in_flght: 8
                  retry: { max_atempts: 3 }
                htp: { port: 1 }
                rules: rules.yaml
                """,
            rules: """
                rules:
                  broken:
                    kind: template
                    template_id: ""
                    data: { keyword1: "{{#open}}" }
                """)
        for field in [
            "kafka.brokers", "kafka.topics: same is named for requests and results", "kafka.properties", "wechat.api_base",
            "wechat.request_timeout",
            "wechat.accounts.default.appid", "wechat.accounts.default.token_mode", "wechat.accounts.second.token_url",
            "dispatcher.in_flight", "rules.broken.template_id", "rules.broken", "wechat.accounts.default.limits.rate",
            "wechat.accounts.default.limits.burst", "wechat.accounts.default.limits.daily_quota",
            "wechat.accounts.default.limits.quota_reset",
        ] {
            #expect(report.contains(field), "\(field) missing from:\n\(report)")
        }
        // Typos are named, with the closest known key.
        #expect(report.contains("dispatcher.in_flght: unknown key; did you mean in_flight?"), "\(report)")
        #expect(report.contains("dispatcher.retry.max_atempts: unknown key; did you mean max_attempts?"))
        #expect(report.contains("htp: unknown key; did you mean http?"))
    }

    @Test(
        "values that crashed it (inf, 1e300s, 99999999999GiB, 1/1e20d, a 600-byte topic) and zero or inverted durations are problems; exit 1"
    )
    func valuesOutOfRange() async throws {
        let report = try await Self.refused(
            config: """
                kafka:
                  brokers: 127.0.0.1:9092
                  topics: { requests: \(String(repeating: "a", count: 600)) }
                wechat:
                  accounts:
                    default: { appid: wx1, secret: s }
                dispatcher:
                  drain_timeout: infs
                  commit_interval: 0ms
                  buffer: { bytes: 99999999999GiB }
                  retry: { initial_backoff: 1m, max_backoff: 1s, deadline: 1e300s }
                rules: rules.yaml
                """,
            rules: """
                rules:
                  order.shipped:
                    kind: template
                    template_id: T1
                    data: { keyword1: "{{order.id}}" }
                    throttle: { per_recipient: 1/1e20d }
                """)
        Self.expectNamed(
            [
                "kafka.topics.requests: \"aaaa", "is not a Kafka topic name", "dispatcher.drain_timeout: \"infs\" is not a duration",
                "dispatcher.commit_interval: 0.0 seconds; use a positive duration", "dispatcher.buffer.bytes: \"99999999999GiB\"",
                "dispatcher.retry.deadline: \"1e300s\" is not a duration",
                "dispatcher.retry.initial_backoff: 60.0 seconds is above max_backoff",
                "per_recipient",
            ], in: report)
    }

    @Test(
        "typos in rules.yaml (throtle, overflw, a miniprogram key) and in a list of request topics are named with the closest key; exit 1")
    func typosInRulesAndSequences() async throws {
        let report = try await Self.refused(
            config: """
                kafka:
                  brokers: 127.0.0.1:9092
                  topics: { requests: [{ topic: high, priorty: 1 }, { topic: low }] }
                wechat:
                  accounts:
                    default: { appid: wx1, secret: s }
                rules: rules.yaml
                """,
            rules: """
                rules:
                  order.shipped:
                    kind: template
                    template_id: T1
                    miniprogram: { appid: wxmini, pagepth: index }
                    data: { keyword1: { value: "{{order.id}}", overflw: reject } }
                    throtle: { per_recipient: 3/1h }
                """)
        Self.expectNamed(
            [
                "kafka.topics.requests[0].priorty: unknown key; did you mean priority?",
                "rules.order.shipped.throtle: unknown key; did you mean throttle?",
                "rules.order.shipped.data.keyword1.overflw: unknown key; did you mean overflow?",
                "rules.order.shipped.miniprogram.pagepth: unknown key; did you mean pagepath?",
            ], in: report)
    }

    @Test("per-producer properties: an unknown role and a property librdkafka refuses are named")
    func producerProfiles() async throws {
        let report = try await Self.refused(
            config: """
                kafka:
                  brokers: 127.0.0.1:9092
                  producers:
                    sent_log: { linger.ms: "-3" }
                    outcome: { linger.ms: "1" }
                wechat:
                  accounts:
                    default: { appid: wx1, secret: s }
                rules: rules.yaml
                """)
        Self.expectNamed(["kafka.producers.outcome", "outcomes", "kafka.producers.sent_log:", "value -3"], in: report)
    }

    @Test("a duplicate key is named with where it is, and the file's lines (a secret among them) are not repeated")
    func duplicateKey() async throws {
        let report = try await Self.refused(
            config: """
                kafka:
                  brokers: 127.0.0.1:9092
                wechat:
                  accounts:
                    default: { appid: wx1, secret: do-not-print-me }
                kafka:
                  group: again
                """)
        #expect(report.contains("duplicated key(s): 'kafka'") && report.contains("in line 1, column 1"), "\(report)")
        #expect(!report.contains("do-not-print-me"))
    }

    /// Every one of `expected` appears in the report (each missing one is its own failure, here).
    @Test(
        "WXPUSH_<PATH>__<KEY> overrides any key (a mistyped one is named as the unknown key it makes); ${env:} and ${file:} fill Kafka properties, and a missing one is named without its value"
    )
    func environmentOverridesAndSecretReferences() async throws {
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-secret-\(UUID().uuidString)")
        try "file-secret-value\n".write(to: secretFile, atomically: true, encoding: .utf8)
        let report = try await Self.refused(
            config: """
                kafka:
                  brokers: 127.0.0.1:9092
                  group: wxpush
                  properties:
                    sasl.username: "${file:\(secretFile.path)}"
                    sasl.password: "${env:WXPUSH_TEST_KAFKA_PASSWORD}"
                    ssl.key.password: "${env:WXPUSH_TEST_UNSET}"
                    sasl.oauthbearer.config: "${vault:x}"
                wechat:
                  accounts: { default: { appid: wx1, secret: s } }
                dispatcher:
                  in_flight: 64
                """,
            environment: [
                "WXPUSH_TEST_KAFKA_PASSWORD": "env-secret-value", "WXPUSH_DISPATCHER__IN_FLIGHT": "0",
                "WXPUSH_DISPATCHER__IN_FLGHT": "5", "WXPUSH_LOGGING__FORMAT": "xml",
            ])
        Self.expectNamed(
            [
                "dispatcher.in_flight: 0 is out of range", "dispatcher.in_flght", "logging.format: \"xml\"",
                "kafka.properties.ssl.key.password: ${env:WXPUSH_TEST_UNSET} names the environment variable WXPUSH_TEST_UNSET, which is not set",
                "kafka.properties.sasl.oauthbearer.config: written like a reference",
            ], in: report)
        #expect(!report.contains("env-secret-value") && !report.contains("file-secret-value"))
        #expect(!report.contains("sasl.username") && !report.contains("sasl.password"), "resolved references are no problem")
    }

    static func expectNamed(_ expected: [String], in report: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for text in expected {
            #expect(report.contains(text), "\(text) missing from:\n\(report)", sourceLocation: sourceLocation)
        }
    }

    /// Runs check-config on these files (rules.yaml empty unless given); expects exit 1 and returns the report.
    static func refused(config: String, rules: String = "rules: {}\n", environment: [String: String] = [:]) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try config.write(to: directory.appendingPathComponent("wxpush.yaml"), atomically: true, encoding: .utf8)
        try rules.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let stderr = directory.appendingPathComponent("stderr.txt")
        let check = try WXPushProcess(
            ["check-config", "--config", directory.appendingPathComponent("wxpush.yaml").path], environment: environment, stderr: stderr)
        #expect(try await check.waitForExit() == 1)
        return try String(contentsOf: stderr, encoding: .utf8)
    }
}
