import Dispatcher
import Foundation
import Harness
import Kafka
import Simulator
import Testing
import WeChat

@Suite("wxpush run's HTTP endpoints", .serialized)
struct HTTPEndpointTests {
    static let aesKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"

    @Test(
        "/readyz is 503 until the group assigned and a token is held, then 200; /metrics counts match the outcomes; no secret anywhere at trace level (log, metrics, outcomes, DLQ), with receipts decrypted and an intake batch"
    )
    func healthMetricsAndSecrets() async throws {
        let run = try await ChaosRun.start("http endpoints", events: 300, openids: 100)
        let port = try freeLocalPort()
        var options = RunOptions(inFlight: 16, instanceID: "http")
        options.httpPort = port
        options.callbackToken = "callbackToken1"
        options.callbackAESKey = Self.aesKey
        options.intakeToken = "intakeToken-0123456789abcdef"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-http-\(UUID().uuidString.prefix(8)).log")
        let child = try WXPushProcess(
            ["run", "--config", try run.configuration(options)],
            environment: ["WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret, "WXPUSH_LOG_LEVEL": "trace"], stderr: log)
        let base = "http://127.0.0.1:\(port)"
        let first = try await HTTPProbe.firstAnswer(base + "/readyz")
        #expect(first.status == 503, "the first /readyz came after the assignment: \(first.body)")
        #expect(first.body.contains("\"ready\":false"))
        try await eventually("/readyz 200", timeout: .seconds(60)) { (try? await HTTPProbe.get(base + "/readyz"))?.status == 200 }
        let ready = try await HTTPProbe.get(base + "/readyz")
        #expect(
            ready.body.contains("\"group\":\"ok\"") && ready.body.contains("\"kafka\":\"ok\"")
                && ready.body.contains("\"token.default\":\"ok\""))
        #expect(try await HTTPProbe.get(base + "/healthz").status == 200)

        // Safe-mode receipts for every send, decrypted with the EncodingAESKey while the log is at trace.
        run.pipeline.simulator.updateConfiguration {
            $0.receipts = ReceiptCallbacks(
                url: base + "/wechat/callback/default", token: "callbackToken1", encodingAESKey: Self.aesKey, delay: .milliseconds(100),
                blockedFraction: 0, systemFailedFraction: 0)
        }
        // An intake batch with the bearer token.
        let intake = try await HTTPProbe.post(
            base + "/v1/notifications",
            body: #"[{"v":1,"id":"intake-1","type":"order.shipped","to":"o-intake","data":{"order":{"id":"1"}}}]"#,
            headers: [("Authorization", "Bearer intakeToken-0123456789abcdef")])
        #expect(intake.status == 202, "\(intake.body)")
        // Valid events, and 20 that are not (rejected, with a DLQ copy each).
        let invalid = (0..<20).map {
            SampleEvents.Event(id: "bad-\($0)", openid: "o-bad-\($0)", bytes: Array(#"{"v":1,"id":"bad-\#($0)","to":42}"#.utf8))
        }
        try await run.produce(run.events + invalid)
        try await run.waitFor(ids: run.events.count + invalid.count + 1, timeout: .seconds(90), sampling: [child])
        try await eventually("receipts", timeout: .seconds(30)) { run.collector.receipts.count >= run.events.count }
        let outcomes = run.collector.all.values.compactMap(\.first?.outcome)
        let sent = outcomes.filter { $0.status == "sent" }.count
        let rejected = outcomes.filter { $0.status == "rejected" }.count
        #expect(rejected >= invalid.count)
        // Outcomes are counted once acknowledged, just before the offset moves: read until they settle.
        try await eventually("/metrics to count every outcome", timeout: .seconds(10)) {
            HTTPProbe.sum(try await HTTPProbe.get(base + "/metrics").body, "wxpush_outcomes_total") == Double(outcomes.count)
        }
        let metrics = try await HTTPProbe.get(base + "/metrics").body
        #expect(HTTPProbe.sum(metrics, "wxpush_outcomes_total", ["status": "sent", "account": "default"]) == Double(sent))
        #expect(HTTPProbe.sum(metrics, "wxpush_outcomes_total", ["status": "rejected"]) == Double(rejected))
        #expect(HTTPProbe.sum(metrics, "wxpush_dlq_writes_total") == Double(rejected))
        #expect(HTTPProbe.sum(metrics, "wxpush_events_consumed_total") >= Double(outcomes.count))
        #expect(HTTPProbe.sum(metrics, "wxpush_wechat_request_duration_seconds_count") >= Double(sent))
        #expect(HTTPProbe.sum(metrics, "wxpush_token_fetches_total", ["mode": "stable", "result": "ok"]) >= 1)
        #expect(HTTPProbe.sum(metrics, "wxpush_sends_in_flight") == 0)
        #expect(metrics.contains("wxpush_consumer_lag{"))

        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let row = await run.finish()
        #expect(row.lost == 0)
        // No secret in the trace-level log, the metrics or the outcomes.
        let logged = try String(contentsOf: log, encoding: .utf8)
        let reader = try KafkaPartitionReader(configuration: run.pipeline.kafka, logger: .test("wxpush.dlq"))
        let dlq = try await reader.read(TopicPartition(topic: run.pipeline.settings.deadLetterTopic, partition: 0), from: 0)
        #expect(dlq.count == invalid.count)
        let copies = dlq.map { String(decoding: $0.value, as: UTF8.self) + "\($0.headers)" }.joined()
        let everything = logged + metrics + "\(run.collector.all)" + "\(run.collector.receipts)" + copies
        #expect(logged.count > 10_000, "the trace log is suspiciously short")
        #expect(logged.split(separator: "\n").contains { $0.hasSuffix(" receipt") }, "no receipt was logged at trace level")
        let secrets =
            [run.pipeline.account.secret, Self.aesKey, "callbackToken1", "intakeToken-0123456789abcdef"]
            + run.pipeline.simulator.issuedTokens
        #expect(run.pipeline.simulator.issuedTokens.count >= 1)
        for secret in secrets { #expect(!everything.contains(secret), "a secret (\(secret.prefix(4))…) leaked") }
        try? FileManager.default.removeItem(at: log)
    }

    @Test(
        "receipts: sends → simulator receipts (safe mode) → one receipt outcome each with the request id, also for the other instance's sends"
    )
    func receiptsAcrossInstances() async throws {
        let run = try await ChaosRun.start("receipts (2 instances)", events: 600, openids: 300)
        let ports = [try freeLocalPort(), try freeLocalPort()]
        let logs = (0..<2).map { _ in
            FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-rcpt-\(UUID().uuidString.prefix(8)).log")
        }
        var children: [WXPushProcess] = []
        var configs: [String] = []
        for (index, port) in ports.enumerated() {
            var options = RunOptions(inFlight: 16, instanceID: "receipts-\(index)")
            options.httpPort = port
            options.callbackToken = "callbackToken1"
            options.callbackAESKey = Self.aesKey
            // A limit far above the load: it makes each instance log its share, so the test can wait for both.
            options.limits = "{ rate: 100000/s }"
            configs.append(try run.configuration(options))
            children.append(try run.instance(configs[index], log: logs[index]))
        }
        // Every receipt goes to the first instance, whichever instance sent the message.
        let callback = "http://127.0.0.1:\(ports[0])/wechat/callback/default"
        run.pipeline.simulator.updateConfiguration {
            $0.receipts = ReceiptCallbacks(
                url: callback, token: "callbackToken1", encodingAESKey: Self.aesKey, delay: .milliseconds(300), blockedFraction: 0.1,
                systemFailedFraction: 0.05)
        }
        try await LimitRun.waitForShares(logs: logs, partitions: 6, timeout: .seconds(60))
        try await run.produce()
        try await run.waitFor(ids: run.events.count, timeout: .seconds(90), sampling: children)
        let sentOutcomes = run.collector.all.values.compactMap(\.first).filter { $0.outcome.status == "sent" }
        try await eventually("a receipt per sent message", timeout: .seconds(30)) { run.collector.receipts.count >= sentOutcomes.count }

        // Refusals publish nothing: a bad signature, a body over 64 KiB, an unknown account.
        let receiptsBefore = run.collector.receipts.count
        let forged = CallbackAuthenticator(
            token: "notTheToken", cipher: try CallbackCipher(encodingAESKey: Self.aesKey, appID: run.pipeline.account.appID))
        let sealed = forged.seal(
            DeliveryReceipt(openid: "o-x", msgid: 1, createTime: 1, status: .delivered, toUserName: "gh").templateFinishedMessage)
        let query = sealed.query.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
            separator: "&")
        #expect(try await HTTPProbe.post(callback + "?" + query, body: sealed.body).status == 401)
        #expect(try await HTTPProbe.post(callback + "?" + query, body: String(repeating: "x", count: 70_000)).status == 413)
        #expect(try await HTTPProbe.post("http://127.0.0.1:\(ports[0])/wechat/callback/nobody?" + query, body: sealed.body).status == 404)
        // Unknown accounts count under one label, whatever the path (each was a series of its own).
        for index in 0..<50 {
            #expect(try await HTTPProbe.get("http://127.0.0.1:\(ports[0])/wechat/callback/stranger-\(index)?" + query).status == 404)
        }
        let metrics = try await HTTPProbe.get("http://127.0.0.1:\(ports[0])/metrics").body
        #expect(!metrics.contains("stranger-"))
        #expect(HTTPProbe.sum(metrics, "wxpush_callbacks_total", ["account": "other", "result": "unknown_account"]) >= 50)
        // A repeated callback (same FromUserName, CreateTime, MsgID) is published once.
        let genuine = CallbackAuthenticator(
            token: "callbackToken1", cipher: try CallbackCipher(encodingAESKey: Self.aesKey, appID: run.pipeline.account.appID))
        let repeated = genuine.seal(
            DeliveryReceipt(openid: "o-rep", msgid: 77, createTime: 1_700_000_000, status: .delivered, toUserName: "gh")
                .templateFinishedMessage)
        let repeatedQuery = repeated.query.map {
            "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        // Also when a repeat reaches the other instance (WeChat calls again after 5 s without an answer).
        let otherCallback = "http://127.0.0.1:\(ports[1])/wechat/callback/default"
        for target in [callback, callback, otherCallback, otherCallback] {
            let answer = try await HTTPProbe.post(target + "?" + repeatedQuery, body: repeated.body)
            #expect(answer.status == 200 && answer.body == "success")
            try await eventually("the repeated receipt", timeout: .seconds(10)) { run.collector.receipts.contains { $0.msgid == 77 } }
            try await Task.sleep(for: .milliseconds(300))
        }

        for child in children { child.signal(SIGTERM) }
        for child in children { #expect(try await child.waitForExit(timeout: .seconds(30)) == 0) }
        let receipts = run.collector.receipts
        #expect(receipts.count == receiptsBefore + 1, "refused callbacks published something, or the repeat was published twice")
        #expect(receipts.filter { $0.msgid == 77 }.count == 1)
        let byMsgid = Dictionary(grouping: receipts.filter { $0.msgid != 77 }, by: \.msgid)
        #expect(byMsgid.values.allSatisfy { $0.count == 1 }, "a receipt was published twice")
        var fromOther = 0
        for sent in sentOutcomes {
            guard let msgid = sent.outcome.msgid, let receipt = byMsgid[msgid]?.first else {
                Issue.record("no receipt for \(sent.outcome.id)")
                continue
            }
            #expect(receipt.id == sent.outcome.id, "receipt of msgid \(msgid) names \(receipt.id ?? "nothing"), not \(sent.outcome.id)")
            #expect(receipt.to == sent.outcome.to)
            if sent.transaction?.contains("receipts-1") == true { fromOther += 1 }
        }
        #expect(fromOther > 0, "the second instance sent nothing: the cross-instance path was not exercised")
        let statuses = Dictionary(grouping: receipts, by: \.status).mapValues(\.count)
        #expect(statuses[.userBlocked, default: 0] > 0 && statuses[.systemFailed, default: 0] > 0 && statuses[.delivered, default: 0] > 0)
        print(
            "receipts | \(receipts.count) receipts for \(sentOutcomes.count) sends, \(fromOther) sent by the other instance | \(statuses)")

        // `wxpush report` joins them: per account and type, the sends and the delivery rate.
        let report = try WXPushProcess(
            ["report", "--config", configs[0], "--since", "1h"], environment: ["WXPUSH_SECRET_DEFAULT": run.pipeline.account.secret])
        #expect(try await report.waitForExit(timeout: .seconds(60)) == 0)
        let text = report.stdoutLines.joined(separator: "\n")
        let row = try #require(report.stdoutLines.first { $0.hasPrefix("default") && $0.contains("order.shipped") }, "\(text)")
        let cells = row.split(separator: " ")
        #expect(cells[2] == "\(sentOutcomes.count)", "\(text)")
        // The hand-made receipt 77 names no known request: it is counted under type "?".
        #expect(Int(cells[6]) == statuses[.delivered, default: 0] - 1, "\(text)")
        #expect(row.contains("%"), "\(text)")
        for log in logs { try? FileManager.default.removeItem(at: log) }
        _ = await run.finish()
    }
}

@Suite("The public port under a flood of half-open connections")
struct ConnectionLimitTests {
    @Test(
        "250 connections with half a request header: /healthz still answers; each is closed after header_timeout; past max_connections new ones are closed at once"
    )
    func halfOpenConnections() async throws {
        let run = try await ChaosRun.start("half-open", events: 0, openids: 1)
        let port = try freeLocalPort()
        var options = RunOptions(inFlight: 4, instanceID: "half-open")
        options.httpPort = port
        options.httpLimits = "max_connections: 300, header_timeout: 2s"
        options.callbackToken = "callbackToken1"
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-flood-\(UUID().uuidString.prefix(8)).log")
        let child = try run.instance(try run.configuration(options), log: log)
        let base = "http://127.0.0.1:\(port)"
        try await eventually("/healthz", timeout: .seconds(60)) { (try? await HTTPProbe.get(base + "/healthz"))?.status == 200 }

        // 30 forged callbacks: 30 refusals, one warning (the next one, 10 s later, would count the rest).
        for index in 0..<30 {
            let forged = "\(base)/wechat/callback/default?timestamp=\(Int(Date().timeIntervalSince1970))&nonce=\(index)&signature=bad"
            #expect(try await HTTPProbe.post(forged, body: "<xml></xml>").status == 401)
        }
        let warnings = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("callback refused") }
        #expect(warnings.count == 1, "\(warnings)")

        let halfOpen = try (0..<250).map { _ in try RawConnection(port: port) }
        for connection in halfOpen { connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ") }
        #expect(try await HTTPProbe.get(base + "/healthz").status == 200)
        // Closed by the server within the header timeout (2 s) and some slack; none before 1 s.
        #expect(halfOpen.filter { $0.isClosed(within: 0) }.isEmpty)
        try await Task.sleep(for: .seconds(3))
        let closed = halfOpen.filter { $0.isClosed(within: 2_000) }.count
        #expect(closed == halfOpen.count, "\(closed) of \(halfOpen.count) closed by the server")

        // Past the cap, a new connection is closed at once (the first 300 stay until their timeout).
        let flood = try (0..<320).map { _ in try RawConnection(port: port) }
        try await Task.sleep(for: .milliseconds(500))
        let refused = flood.filter { $0.isClosed(within: 0) }.count
        #expect(refused >= 20 && refused < 320, "\(refused) closed at once")
        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        _ = await run.finish()
    }
}

@Suite("POST /v1/notifications", .serialized)
struct IntakeTests {
    @Test(
        "a valid batch lands on the requests topic and is dispatched; invalid items are named and nothing is produced; no token → 401; brokers away → 503 and nothing half-produced"
    )
    func intake() async throws {
        let run = try await ChaosRun.start("intake", events: 0, openids: 1)
        let port = try freeLocalPort()
        var options = RunOptions(inFlight: 16, instanceID: "intake")
        options.httpPort = port
        options.intakeToken = "intake-token-0123456789"
        let child = try run.instance(try run.configuration(options))
        let url = "http://127.0.0.1:\(port)/v1/notifications"
        try await eventually("/readyz 200", timeout: .seconds(60)) {
            (try? await HTTPProbe.get("http://127.0.0.1:\(port)/readyz"))?.status == 200
        }
        @Sendable func event(_ id: String, to: String = "o-intake") -> String {
            #"{"v":1,"id":"\#(id)","type":"order.shipped","to":"\#(to)","data":{"order":{"id":"1","carrier":"SF","eta":"2026-11-24"}}}"#
        }
        let auth = [("Authorization", "Bearer intake-token-0123456789")]
        #expect(try await HTTPProbe.post(url, body: event("no-token")).status == 401)
        #expect(try await HTTPProbe.post(url, body: event("wrong-token"), headers: [("Authorization", "Bearer nope")]).status == 401)

        let invalid = try await HTTPProbe.post(
            url, body: "[\(event("half-1")), {\"id\":\"half-2\",\"to\":42}, {\"to\":\"x\"}]", headers: auth)
        #expect(invalid.status == 400)
        #expect(invalid.body.contains(#""index":1"#) && invalid.body.contains("half-2") && invalid.body.contains(#""index":2"#))
        // Events sure to be rejected (no rule for the type, no such account) are refused here, not accepted.
        let unsendable = try await HTTPProbe.post(
            url,
            body:
                #"[{"v":1,"id":"no-rule","type":"no.such.type","to":"o","data":{}},{"v":1,"id":"no-app","app":"nobody","type":"order.shipped","to":"o","data":{}}]"#,
            headers: auth)
        #expect(unsendable.status == 400)
        #expect(
            unsendable.body.contains("no.such.type has no rule") && unsendable.body.contains("nobody is no configured account"),
            "\(unsendable.body)")

        let batch = (0..<50).map { event("intake-\($0)", to: "o-intake-\($0 % 7)") }
        let accepted = try await HTTPProbe.post(
            url, body: "[" + batch.joined(separator: ",") + "]",
            headers: auth + [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
        #expect(accepted.status == 202)
        #expect(accepted.body.contains("intake-49"))
        #expect(try await HTTPProbe.post(url, body: event("single"), headers: auth).status == 202)
        try await run.collector.waitFor(ids: 51, timeout: .seconds(60))

        // The brokers go away. Batches wait in a bounded line: past 16 (or 32 MiB) one is answered
        // 503 at once instead of queueing with its body for as long as the outage lasts.
        try run.pipeline.cluster.setBrokerDown(1)
        // (Raw connections: an HTTP client would hold all but a few of them back on its side.)
        let line = try (0..<22).map { index in
            let connection = try RawConnection(port: port)
            let body = "[\(event("line-\(index)"))]"
            connection.send(
                "POST /v1/notifications HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer intake-token-0123456789\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            return connection
        }
        try await Task.sleep(for: .seconds(1))
        let atOnce = line.map { $0.read(within: 0) }.filter { $0.hasPrefix("HTTP/1.1 503") && $0.contains("the intake is busy") }
        #expect(atOnce.count >= 5, "\(atOnce.count) answered 503 busy at once")
        let refused = try await HTTPProbe.post(url, body: "[\(event("away-1")),\(event("away-2"))]", headers: auth)
        try run.pipeline.cluster.setBrokerUp(1)
        #expect(refused.status == 503, "\(refused.status) \(refused.body)")
        for connection in line { _ = connection.read(within: 0) }
        // The first requests after the outage may still answer 503 while librdkafka reconnects
        // and finishes the open transaction: a client retries, with the same ids.
        try await eventually("202 again after the outage", timeout: .seconds(60)) {
            try await HTTPProbe.post(url, body: event("after"), headers: auth).status == 202
        }
        try await eventually("the outcome of \"after\"", timeout: .seconds(60)) { run.collector.all["after"] != nil }
        // The unconfirmed batch either never landed or landed whole: then both get an outcome.
        if run.collector.all["away-1"] != nil || run.collector.all["away-2"] != nil {
            try await eventually("both of the batch", timeout: .seconds(30)) {
                run.collector.all["away-1"] != nil && run.collector.all["away-2"] != nil
            }
        }

        child.signal(SIGTERM)
        #expect(try await child.waitForExit(timeout: .seconds(30)) == 0)
        let all = run.collector.all
        #expect((0..<50).allSatisfy { all["intake-\($0)"]?.first?.outcome.status == "sent" })
        // The caller's traceparent went with each record, onto its outcome; one was made for "single".
        #expect(
            (0..<50).allSatisfy { all["intake-\($0)"]?.first?.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" })
        #expect(all["single"]?.first?.traceparent?.hasPrefix("00-") == true)
        #expect(all["single"] != nil && all["after"] != nil)
        for id in ["half-1", "half-2", "no-token", "wrong-token"] { #expect(all[id] == nil, "\(id) was produced") }
        // Unconfirmed in time, the batch may still have committed later: whole, or not at all.
        #expect((all["away-1"] == nil) == (all["away-2"] == nil), "half of a batch was produced")
        _ = await run.finish()
    }
}
