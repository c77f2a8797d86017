import Foundation
import Harness
import Testing
import WeChat

/// The fuzz suite's surfaces that only a process has: wxpush.yaml and rules.yaml through
/// `check-config` (a clear error or OK, never a crash), and the public port of a running
/// `wxpush run` (callbacks in both modes, intake bodies): answered, never with a 500, and the
/// process keeps serving. Seeded like the in-process suite (`DispatcherTests/FuzzTests`).
@Suite("Fuzz: configuration files and the public port")
struct FuzzEndToEndTests {
    static let seed: UInt64 = 0x5EED_2026_1207
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("mutated wxpush.yaml and rules.yaml: check-config exits 0 or 1 with its problems, never crashes")
    func configurationFiles() async throws {
        let config = try String(contentsOf: Self.root.appendingPathComponent("config/wxpush.yaml"), encoding: .utf8)
        let rules = try String(contentsOf: Self.root.appendingPathComponent("config/rules.yaml"), encoding: .utf8)
        var mutator = InputMutator(seed: Self.seed ^ 11)
        let count = 160
        var refused = 0
        for index in 0..<count {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-fuzz-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let mutatesConfig = index % 2 == 0
            try (mutatesConfig ? mutator.mutate(config) : config).write(
                to: directory.appendingPathComponent("wxpush.yaml"), atomically: true, encoding: .utf8)
            try (mutatesConfig ? rules : mutator.mutate(rules)).write(
                to: directory.appendingPathComponent("rules.yaml"), atomically: true, encoding: .utf8)
            let stderr = directory.appendingPathComponent("stderr.txt")
            let check = try WXPushProcess(
                ["check-config", "--config", directory.appendingPathComponent("wxpush.yaml").path],
                environment: ["WXPUSH_SECRET_DEFAULT": "s3cret"], stderr: stderr)
            let status = try await check.waitForExit(timeout: .seconds(30))
            #expect(status == 0 || status == 1, "check-config exited \(status) on input \(index) (seed \(Self.seed))")
            if status == 1 {
                refused += 1
                #expect(try String(contentsOf: stderr, encoding: .utf8).contains(" - "), "no problem named for input \(index)")
            }
        }
        print("fuzz | wxpush.yaml and rules.yaml (check-config) | \(count) inputs | OK \(count - refused), refused \(refused) | 0 crashes")
    }

    @Test("mutated callbacks (plaintext and safe mode) and intake bodies: never a 500, and the process keeps serving")
    func publicPort() async throws {
        let run = try await ChaosRun.start("fuzz public port", events: 0, openids: 1)
        var mutator = InputMutator(seed: Self.seed ^ 12)
        var answers: [Int: Int] = [:]
        for mode in ["plaintext", "safe"] {
            let port = try freeLocalPort()
            var options = RunOptions(inFlight: 4, instanceID: "fuzz-\(mode)")
            options.httpPort = port
            options.callbackToken = "callbackToken1"
            options.callbackAESKey = mode == "safe" ? HTTPEndpointTests.aesKey : nil
            options.intakeToken = "intake-token-0123456789"
            let child = try run.instance(try run.configuration(options))
            let base = "http://127.0.0.1:\(port)"
            try await eventually("/healthz", timeout: .seconds(60)) { (try? await HTTPProbe.get(base + "/healthz"))?.status == 200 }
            let cipher =
                mode == "safe" ? try CallbackCipher(encodingAESKey: HTTPEndpointTests.aesKey, appID: run.pipeline.account.appID) : nil
            let authenticator = CallbackAuthenticator(token: "callbackToken1", cipher: cipher)
            let receipt = DeliveryReceipt(openid: "o-fuzz", msgid: 9, createTime: 1_765_000_000, status: .delivered, toUserName: "gh")
            let event =
                #"[{"v":1,"id":"fuzz-1","type":"order.shipped","to":"o-fuzz","data":{"order":{"id":"1","carrier":"SF","eta":"x"}}}]"#
            for index in 0..<300 {
                let sealed = authenticator.seal(receipt.templateFinishedMessage)
                let query = sealed.query.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                    .joined(separator: "&")
                let (url, body, headers): (String, String, [(String, String)]) =
                    switch index % 3 {
                    case 0: (base + "/wechat/callback/default?" + query, mutator.mutate(sealed.body), [])
                    case 1: (base + "/wechat/callback/default?" + mutator.mutate(query), sealed.body, [])
                    default: (base + "/v1/notifications", mutator.mutate(event), [("Authorization", "Bearer intake-token-0123456789")])
                    }
                guard URL(string: url) != nil else { continue }
                let answer = try await HTTPProbe.post(url, body: body, headers: headers)
                answers[answer.status, default: 0] += 1
                #expect(answer.status < 500 || answer.status == 503, "\(answer.status) for input \(index): \(answer.body.prefix(200))")
            }
            #expect(try await HTTPProbe.get(base + "/healthz").status == 200)
            #expect(child.isRunning)
            child.signal(SIGTERM)
            #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        }
        let total = answers.values.reduce(0, +)
        print(
            "fuzz | callbacks and intake bodies (wxpush run) | \(total) inputs | answers \(answers.sorted { $0.key < $1.key }.map { "\($0.key) × \($0.value)" }.joined(separator: ", ")) | 0 crashes"
        )
        _ = await run.finish()
    }
}
