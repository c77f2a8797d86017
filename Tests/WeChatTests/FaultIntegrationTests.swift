import AsyncHTTPClient
import Foundation
import Simulator
import Testing
import WeChat

@Suite("Injected faults and quotas over HTTP")
struct FaultIntegrationTests {
    @Test func systemBusyIsRetried() async throws {
        try await SimulatorFixture.with(SimulatorConfiguration(busyFraction: 1)) { fixture in
            let result = await fixture.client().send(templateMessage(), account: "demo")
            #expect(result.errcode == -1)
            #expect(result.action == .retry)
            #expect(result.progress == .answered)
            #expect(fixture.simulator.stats.delivered == 0)
        }
    }

    @Test func http500IsATransportRetry() async throws {
        try await SimulatorFixture.with(SimulatorConfiguration(http500Fraction: 1)) { fixture in
            let result = await fixture.client().send(templateMessage(), account: "demo")
            #expect(result.errcode == -2)
            #expect(result.action == .retry)
            #expect(result.httpStatus == 500)
            #expect(result.progress == .writtenNoAnswer)
        }
    }

    @Test func aHangingSendTimesOutAsARetry() async throws {
        // The simulator would answer after 10 s; the 1 s timeout must end the send long before.
        try await SimulatorFixture.with { fixture in
            let client = fixture.client(requestTimeout: .seconds(1))
            // A token and a warm connection first: the hanging request is then written at once,
            // whatever the machine's load (a cold one under load could time out unwritten).
            _ = await client.send(templateMessage(to: "invalid-warmup"), account: "demo")
            fixture.simulator.updateConfiguration {
                $0.timeoutFraction = 1
                $0.hangDuration = .seconds(10)
            }
            let started = ContinuousClock.now
            let result = await client.send(templateMessage(), account: "demo")
            #expect(result.errcode == -2)
            #expect(result.action == .retry)
            #expect(result.httpStatus == nil)
            // The body was written: the simulator may deliver it after the client gave up.
            #expect(result.progress == .writtenNoAnswer)
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func cancellingASendEndsItPromptly() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client(requestTimeout: .seconds(10))
            _ = await client.send(templateMessage(to: "invalid-warmup"), account: "demo")  // fetches the token
            fixture.simulator.updateConfiguration {
                $0.timeoutFraction = 1
                $0.hangDuration = .seconds(10)
            }
            let started = ContinuousClock.now
            let requestsBefore = fixture.simulator.stats.sendRequests
            let send = Task { await client.send(templateMessage(), account: "demo") }
            // Cancel once the request hangs at the simulator, not after a guessed delay.
            let deadline = ContinuousClock.now + .seconds(5)
            while fixture.simulator.stats.sendRequests == requestsBefore && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
            #expect(fixture.simulator.stats.sendRequests > requestsBefore)
            send.cancel()
            let result = await send.value
            #expect(result.action == .retry)
            // Ended by the cancellation, not by the simulator's answer 10 s later (loose: CI is loaded).
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }

    @Test func anUnreachableAPIIsATransportRetry() async throws {
        try await SimulatorFixture.with { fixture in
            let account = WeChatAccount(
                name: "demo", appID: SimulatorFixture.appID, secret: SimulatorFixture.secret,
                apiBase: "http://127.0.0.1:1")
            // AHC retries a refused connection until the request deadline, so keep that short.
            let client = fixture.client([account], requestTimeout: .milliseconds(300), expectingFailures: true)
            let result = await client.send(templateMessage(), account: "demo")
            #expect(result.errcode == -2)
            #expect(result.action == .retry)
            #expect(result.progress == .notWritten)
            #expect(!result.errmsg.contains(SimulatorFixture.secret))
        }
    }

    @Test func quotasAnswer45009And45011() async throws {
        try await SimulatorFixture.with(SimulatorConfiguration(dailyQuota: 1)) { fixture in
            let client = fixture.client()
            #expect(await client.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            let over = await client.send(templateMessage(clientMsgID: "c-2"), account: "demo")
            #expect(over.errcode == 45009)
            #expect(over.action == .waitForQuota(.daily))
        }
        try await SimulatorFixture.with(SimulatorConfiguration(perMinuteLimit: 1)) { fixture in
            let client = fixture.client()
            #expect(await client.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            let over = await client.send(templateMessage(clientMsgID: "c-2"), account: "demo")
            // A minute boundary between the two sends would reset the counter; that is a 1-in-60,000 event.
            #expect(over.errcode == 45011)
            #expect(over.action == .waitForQuota(.minute))
        }
    }

    @Test func faultsCanBeChangedMidRun() async throws {
        try await SimulatorFixture.with { fixture in
            let client = fixture.client()
            #expect(await client.send(templateMessage(clientMsgID: "c-1"), account: "demo").errcode == 0)
            fixture.simulator.updateConfiguration { $0.busyFraction = 1 }
            #expect(await client.send(templateMessage(clientMsgID: "c-2"), account: "demo").errcode == -1)
            fixture.simulator.updateConfiguration { $0.busyFraction = 0 }
            #expect(await client.send(templateMessage(clientMsgID: "c-2"), account: "demo").errcode == 0)
            fixture.simulator.resetStats()
            #expect(fixture.simulator.stats == SimulatorStats())
        }
    }

    @Test func aSeedMakesFaultsRepeatable() async throws {
        func errcodes() async throws -> [Int] {
            try await SimulatorFixture.with(SimulatorConfiguration(busyFraction: 0.5, seed: 42)) { fixture in
                let client = fixture.client()
                var codes: [Int] = []
                for index in 0..<20 {
                    codes.append(await client.send(templateMessage(clientMsgID: "c-\(index)"), account: "demo").errcode)
                }
                return codes
            }
        }
        let first = try await errcodes()
        #expect(first.contains(0) && first.contains(-1))
        #expect(try await errcodes() == first)
    }

    @Test func statsHealthAndBodyLimitOverHTTP() async throws {
        try await SimulatorFixture.with { fixture in
            _ = await fixture.client().send(templateMessage(), account: "demo")
            let health = try await fixture.httpClient.execute(
                HTTPClientRequest(url: fixture.baseURL + "/health"), timeout: .seconds(5))
            #expect(health.status == .ok)

            let response = try await fixture.httpClient.execute(
                HTTPClientRequest(url: fixture.baseURL + "/sim/stats"), timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            let stats = try JSONDecoder().decode(SimulatorStats.self, from: Data(body.readableBytesView))
            #expect(stats == fixture.simulator.stats)
            #expect(stats.delivered == 1)

            var huge = HTTPClientRequest(url: fixture.baseURL + MessageKind.template.path + "?access_token=x")
            huge.method = .POST
            huge.body = .bytes(Array(repeating: UInt8(ascii: " "), count: (1 << 20) + 1))
            let refused = try await fixture.httpClient.execute(huge, timeout: .seconds(5))
            #expect(refused.status.code == 413)
        }
    }
}
