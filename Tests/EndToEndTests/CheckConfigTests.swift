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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
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
        """.write(to: directory.appendingPathComponent("wxpush.yaml"), atomically: true, encoding: .utf8)
        try """
        rules:
          broken:
            kind: template
            template_id: ""
            data: { keyword1: "{{#open}}" }
        """.write(to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
        let stderr = directory.appendingPathComponent("stderr.txt")
        let check = try WXPushProcess(["check-config", "--config", directory.appendingPathComponent("wxpush.yaml").path], stderr: stderr)
        #expect(try await check.waitForExit() == 1)
        let report = try String(contentsOf: stderr, encoding: .utf8)
        for field in [
            "kafka.brokers", "kafka.topics.results", "kafka.properties", "wechat.api_base", "wechat.request_timeout",
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
}
