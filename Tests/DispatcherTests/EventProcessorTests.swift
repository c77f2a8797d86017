import Dispatcher
import Foundation
import Kafka
import Synchronization
import Testing
import Waiting
import WeChat

/// A WeChat stand-in answering from a script: the processor is a pure step here, so no HTTP.
final class ScriptedSender: MessageSender {
    private let answers: Mutex<[SendResult]>
    init(_ answers: [SendResult]) { self.answers = Mutex(answers) }
    func send(_ message: OutgoingMessage, account: String, trace: TraceHeader?) async -> SendResult {
        answers.withLock { $0.isEmpty ? SendResult(errcode: 0, errmsg: "ok", msgid: 1, action: .success) : $0.removeFirst() }
    }
    func hasAccount(_ name: String) -> Bool { name == "default" }
}

@Suite("EventProcessor: one attempt at a time, on a manual clock")
struct EventProcessorTests {
    let clock = ManualClock()
    static let wallClock = Date(timeIntervalSince1970: 1_800_000_000)

    func processor(_ answers: [SendResult], retry: RetryPolicy = RetryPolicy()) -> EventProcessor<ManualClock> {
        EventProcessor(
            rules: try! RuleBook(RulesFile(rules: [:])), sender: ScriptedSender(answers), retry: retry, clock: clock,
            now: { Self.wallClock }, random: { 1.0 })
    }

    func record(_ json: String) -> KafkaMessage { record(Array(json.utf8)) }

    func record(_ bytes: [UInt8]) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: 0, offset: 7, key: Array("o1".utf8), value: bytes)
    }

    static let valid =
        #"{"v":1,"id":"e1","to":"o1","message":{"kind":"template","template_id":"T","data":{"k":"v"}}}"#

    func pending(_ processor: EventProcessor<ManualClock>, _ json: String = valid) throws -> EventProcessor<ManualClock>.PendingSend {
        guard case .send(let send) = processor.prepare(record(json)) else { throw CancellationError() }
        return send
    }

    static func errcode(_ code: Int) -> SendResult {
        SendResult(errcode: code, errmsg: "e\(code)", action: ErrorAction.classify(errcode: code))
    }

    @Test("an invalid event is finished at once: rejected, with a DLQ copy")
    func invalid() {
        guard case .finished(let outcome) = processor([]).prepare(record("{")) else { Issue.record("expected an outcome"); return }
        #expect(outcome.status == .rejected)
        #expect(outcome.needsDeadLetter)
        #expect(outcome.id == "t/0/7")
    }

    @Test("invalid UTF-8 in an id is rejected, never repaired into another id")
    func invalidUTF8() {
        var bytes = Array(#"{"id":"ab"#.utf8)
        bytes.append(0xFF)
        bytes += Array(#"","to":"o","type":"x"}"#.utf8)
        guard case .finished(let outcome) = processor([]).prepare(record(bytes)) else { Issue.record("expected an outcome"); return }
        #expect(outcome.reason?.hasPrefix("invalid_event: not JSON: invalid UTF-8") == true)
    }

    @Test("a busy answer schedules a retry on the clock; the next attempt succeeds")
    func retryThenSent() async throws {
        let processor = processor([Self.errcode(-1)])
        let send = try pending(processor)
        guard case .retry(let again, let at) = await processor.attempt(send) else { Issue.record("expected a retry"); return }
        #expect(at == clock.now.advanced(by: .milliseconds(200)))
        guard case .finished(let outcome) = await processor.attempt(again) else { Issue.record("expected an outcome"); return }
        #expect(outcome.status == .sent)
        #expect(outcome.attempts == 2)
    }

    @Test("retries end at the attempt limit with failed and a DLQ copy")
    func retriesExhausted() async throws {
        let processor = processor(Array(repeating: Self.errcode(-1), count: 5), retry: RetryPolicy(maxAttempts: 3))
        var send = try pending(processor)
        for _ in 0..<2 {
            guard case .retry(let again, _) = await processor.attempt(send) else { Issue.record("expected a retry"); return }
            send = again
        }
        guard case .finished(let outcome) = await processor.attempt(send) else { Issue.record("expected an outcome"); return }
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.hasPrefix("retries_exhausted: 3 attempts") == true)
        #expect(outcome.needsDeadLetter)
    }

    @Test("the per-minute limit waits for the next minute, but never past the retry deadline")
    func minuteLimit() async throws {
        let processor = processor([Self.errcode(45011), Self.errcode(45011)], retry: RetryPolicy(deadline: .seconds(90)))
        let send = try pending(processor)
        guard case .retry(let again, let at) = await processor.attempt(send) else { Issue.record("expected a retry"); return }
        #expect(clock.now.duration(to: at) <= .seconds(61))
        clock.advance(by: .seconds(60))
        guard case .finished(let outcome) = await processor.attempt(again) else { Issue.record("expected an outcome"); return }
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.contains("45011") == true)
    }

    @Test("45009 never burns the backlog: the record waits for the quota reset (midnight in Beijing), or its expiry")
    func dailyQuotaWaits() async throws {
        let processor = processor([Self.errcode(45009), Self.errcode(0)], retry: RetryPolicy(deadline: .seconds(90)))
        let send = try pending(processor)
        guard case .retry(let again, let at) = await processor.attempt(send) else { Issue.record("expected a wait"); return }
        let reset = QuotaReset.shanghaiMidnight.next(after: Self.wallClock)
        #expect(clock.now.duration(to: at) == .milliseconds(Int64(reset.timeIntervalSince(Self.wallClock) * 1000)))
        clock.advance(by: clock.now.duration(to: at))
        guard case .finished(let outcome) = await processor.attempt(again) else { Issue.record("expected an outcome"); return }
        #expect(outcome.status == .sent)

        let expiring = try pending(
            self.processor([Self.errcode(45009)]),
            #"{"v":1,"id":"e2","to":"o1","expires_at":"2027-01-15T08:30:00Z","message":{"kind":"template","template_id":"T","data":{"k":"v"}}}"#
        )
        guard case .retry(_, let until) = await self.processor([Self.errcode(45009)]).attempt(expiring) else {
            Issue.record("expected a wait")
            return
        }
        // 2027-01-15T08:00:00Z is the wall clock; the expiry comes 30 minutes later, before the reset.
        #expect(clock.now.duration(to: until) == .milliseconds(30 * 60 * 1000 + 50))
    }

    @Test("configuration errcodes and unknown ones are rejected with a DLQ copy; recipient errcodes without")
    func terminalDeadLetters() async throws {
        for (code, deadLetter) in [(40164, true), (40036, true), (48001, true), (99999, true), (43004, false), (40003, false)] {
            let processor = processor([Self.errcode(code)])
            guard case .finished(let outcome) = await processor.attempt(try pending(processor)) else {
                Issue.record("expected an outcome")
                return
            }
            #expect(outcome.status == .rejected)
            #expect(outcome.needsDeadLetter == deadLetter, "errcode \(code)")
        }
    }

    static func noAnswer(_ progress: SendProgress) -> SendResult {
        SendResult(errcode: SendResult.transportErrcode, errmsg: "timed out", action: .retry, progress: progress)
    }

    static let bizsend = #"{"v":1,"id":"e1","to":"o1","message":{"kind":"bizsend","template_id":"T","data":{"thing1":{"value":"v"}}}}"#

    @Test("bizsend written without an answer ends failed, fate_unknown, with a DLQ copy: never sent a second time")
    func bizsendFateUnknown() async throws {
        let processor = processor([Self.noAnswer(.writtenNoAnswer)])
        guard case .finished(let outcome) = await processor.attempt(try pending(processor, Self.bizsend)) else {
            Issue.record("expected an outcome")
            return
        }
        #expect(outcome.status == .failed)
        #expect(outcome.reason?.hasPrefix("fate_unknown: ") == true)
        #expect(outcome.needsDeadLetter)
        #expect(outcome.attempts == 1)
    }

    @Test("bizsend never written (no connection) is retried; template written without an answer is retried too")
    func safeRetries() async throws {
        let subscribe = processor([Self.noAnswer(.notWritten)])
        guard case .retry(let again, _) = await subscribe.attempt(try pending(subscribe, Self.bizsend)) else {
            Issue.record("expected a retry")
            return
        }
        guard case .finished(let sent) = await subscribe.attempt(again) else { Issue.record("expected an outcome"); return }
        #expect(sent.status == .sent)
        let template = processor([Self.noAnswer(.writtenNoAnswer)])
        guard case .retry = await template.attempt(try pending(template)) else { Issue.record("expected a retry"); return }
    }

    @Test("a template retried past client_msg_id's window after a write without an answer ends fate_unknown")
    func templatePastWindow() async throws {
        let processor = processor(
            [Self.noAnswer(.writtenNoAnswer), Self.noAnswer(.notWritten)],
            retry: RetryPolicy(maxBackoff: .seconds(600), deadline: .seconds(3600)))
        guard case .retry(let again, _) = await processor.attempt(try pending(processor)) else { Issue.record("expected a retry"); return }
        clock.advance(by: .seconds(600))
        guard case .finished(let outcome) = await processor.attempt(again) else { Issue.record("expected an outcome"); return }
        #expect(outcome.reason?.hasPrefix("fate_unknown: ") == true)
    }

    @Test("an event past expires_at is expired without a send")
    func expired() async throws {
        let json = #"{"id":"e1","to":"o1","expires_at":"2020-01-01T00:00:00Z","message":{"kind":"template","template_id":"T","data":{}}}"#
        let processor = processor([])
        guard case .finished(let outcome) = await processor.attempt(try pending(processor, json)) else {
            Issue.record("expected an outcome")
            return
        }
        #expect(outcome.status == .expired)
        #expect(outcome.attempts == 0)
    }
}
