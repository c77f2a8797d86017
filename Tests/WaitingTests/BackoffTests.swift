import Testing
import Waiting

@Suite("Backoff: one schedule (doubling, capped, full jitter, a floor) and one retry helper")
struct BackoffTests {
    struct Failure: Error, Equatable { var fatal = false }

    @Test("the ceiling doubles per attempt up to the maximum; jitter takes a fraction of it, not below the floor")
    func schedule() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), floor: .milliseconds(10))
        #expect((1...5).map { backoff.delay(afterAttempt: $0, random: 1) } == [100, 200, 400, 800, 1000].map { .milliseconds($0) })
        #expect(backoff.delay(afterAttempt: 1_000, random: 1) == .seconds(1))
        #expect(backoff.delay(afterAttempt: 3, random: 0.5) == .milliseconds(200))
        #expect(backoff.delay(afterAttempt: 3, random: 0) == .milliseconds(10))
        let steady = Backoff(initial: .seconds(1), maximum: .seconds(60), jitter: false)
        #expect(steady.delay(afterAttempt: 2, random: 0) == .seconds(2))
    }

    @Test("retrying waits the schedule between failures and returns the first answer")
    func retries() async throws {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(3), jitter: false)
        var calls = 0
        var waits: [Duration] = []
        let answer = try await backoff.retrying(
            { () throws(Failure) -> Int in
                calls += 1
                if calls < 4 { throw Failure() }
                return calls
            },
            retryIf: { _, _ in true },
            wait: {
                waits.append($0); return true
            })
        #expect(answer == 4)
        #expect(waits == [.seconds(1), .seconds(2), .seconds(3)])
    }

    @Test("an error not retried is thrown; a wait that says stop ends with nil")
    func stops() async {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(1))
        await #expect(throws: Failure(fatal: true)) {
            _ = try await backoff.retrying(
                { () throws(Failure) -> Int in throw Failure(fatal: true) }, retryIf: { !$0.fatal && $1 > .zero }, wait: { _ in true })
        }
        do {
            let stopped = try await backoff.retrying(
                { () throws(Failure) -> Int in throw Failure() }, retryIf: { _, _ in true }, wait: { _ in false })
            #expect(stopped == nil)
        } catch {
            Issue.record("a stopped retry threw \(error)")
        }
    }
}
