import Dispatcher
import Testing

@Suite("RetryPolicy: exponential backoff with full jitter, bounded")
struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), deadline: .seconds(10))

    @Test("the ceiling doubles per attempt and is capped")
    func doubling() {
        #expect(policy.backoff(afterAttempt: 1, elapsed: .zero, random: 1) == .milliseconds(100))
        #expect(policy.backoff(afterAttempt: 2, elapsed: .zero, random: 1) == .milliseconds(200))
        #expect(policy.backoff(afterAttempt: 3, elapsed: .zero, random: 1) == .milliseconds(400))
        #expect(policy.backoff(afterAttempt: 4, elapsed: .zero, random: 1) == .milliseconds(800))
        let capped = RetryPolicy(maxAttempts: 20, initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), deadline: .seconds(60))
        #expect(capped.backoff(afterAttempt: 10, elapsed: .zero, random: 1) == .seconds(1))
    }

    @Test("jitter scales the wait between zero and the ceiling")
    func jitter() {
        #expect(policy.backoff(afterAttempt: 3, elapsed: .zero, random: 0) == .zero)
        #expect(policy.backoff(afterAttempt: 3, elapsed: .zero, random: 0.5) == .milliseconds(200))
    }

    @Test("gives up after the last attempt or past the deadline")
    func bounds() {
        #expect(policy.backoff(afterAttempt: 5, elapsed: .zero, random: 0.5) == nil)
        #expect(policy.backoff(afterAttempt: 2, elapsed: .seconds(9.95), random: 1) == nil)
        #expect(policy.backoff(afterAttempt: 2, elapsed: .seconds(9), random: 1) == .milliseconds(200))
    }
}
