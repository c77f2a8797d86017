import Dispatcher
import Testing
import WeChat

@Suite("Resend: a send without an answer is made again only where it cannot reach the user twice")
struct ResendTests {
    @Test(
        "not written: every kind is retried",
        arguments: MessageKind.allCases)
    func notWritten(kind: MessageKind) {
        #expect(Resend.decide(kind: kind, progress: .notWritten, sinceFirstWrite: nil) == .retry)
    }

    @Test("answered (-1, a token error): every kind is retried", arguments: MessageKind.allCases)
    func answered(kind: MessageKind) {
        #expect(Resend.decide(kind: kind, progress: .answered, sinceFirstWrite: nil) == .retry)
    }

    @Test("written without an answer: bizsend and subscribe end fate unknown, whatever came before")
    func writtenSubscribe() {
        for kind in [MessageKind.bizsend, .subscribe] {
            #expect(Resend.decide(kind: kind, progress: .writtenNoAnswer, sinceFirstWrite: .zero) == .fateUnknown)
            #expect(Resend.decide(kind: kind, progress: .writtenNoAnswer, sinceFirstWrite: .seconds(1)) == .fateUnknown)
        }
    }

    @Test("written without an answer: template is retried within client_msg_id's window of its first write, not after")
    func writtenTemplate() {
        #expect(Resend.decide(kind: .template, progress: .writtenNoAnswer, sinceFirstWrite: .zero) == .retry)
        #expect(Resend.decide(kind: .template, progress: .writtenNoAnswer, sinceFirstWrite: .seconds(539)) == .retry)
        #expect(Resend.decide(kind: .template, progress: .writtenNoAnswer, sinceFirstWrite: .seconds(540)) == .fateUnknown)
        // A later attempt that was not written still counts from the first one that was.
        #expect(Resend.decide(kind: .template, progress: .notWritten, sinceFirstWrite: .seconds(600)) == .fateUnknown)
        #expect(Resend.decide(kind: .template, progress: .answered, sinceFirstWrite: .seconds(30)) == .retry)
    }

    @Test("HTTP statuses: 503 and 429 refuse unread, a gateway's other 5xx may have passed it on, 4xx refuse")
    func httpStatuses() {
        #expect(SendProgress.of(httpStatus: 503) == .notWritten)
        #expect(SendProgress.of(httpStatus: 429) == .notWritten)
        #expect(SendProgress.of(httpStatus: 500) == .writtenNoAnswer)
        #expect(SendProgress.of(httpStatus: 502) == .writtenNoAnswer)
        #expect(SendProgress.of(httpStatus: 504) == .writtenNoAnswer)
        #expect(SendProgress.of(httpStatus: 404) == .notWritten)
    }
}
