import Testing
import Waiting

@Suite("Wakeup: level-triggered, cancellable, with a deadline")
struct WakeupTests {
    @Test("a signal sent before the wait is kept for it")
    func signalBeforeWait() async {
        let wakeup = Wakeup()
        wakeup.signal()
        await wakeup.wait()
    }

    @Test("a signal from another task wakes the waiter")
    func signalWakes() async {
        let wakeup = Wakeup()
        async let waited: Void = wakeup.wait()
        wakeup.signal()
        await waited
    }

    @Test("the deadline ends the wait without a signal")
    func deadline() async {
        let wakeup = Wakeup()
        await wakeup.wait(until: .now + .milliseconds(5))
    }

    @Test("a deadline already past returns at once")
    func pastDeadline() async {
        await Wakeup().wait(until: .now - .seconds(1))
    }

    @Test("cancellation ends a wait; waitIgnoringCancellation needs a signal")
    func cancellation() async {
        let wakeup = Wakeup()
        let task = Task { await wakeup.wait() }
        task.cancel()
        await task.value
        let ignoring = Task { await wakeup.waitIgnoringCancellation() }
        ignoring.cancel()
        wakeup.signal()
        await ignoring.value
    }

    @Test("a stale deadline timer does not end a later wait")
    func staleTimer() async {
        let wakeup = Wakeup()
        let first = Task { await wakeup.wait(until: .now + .milliseconds(1)) }
        wakeup.signal()
        await first.value
        // The first wait's timer fires during this one; only the signal below may end it.
        let second = Task { await wakeup.wait() }
        try? await Task.sleep(for: .milliseconds(20))
        wakeup.signal()
        await second.value
    }

    /// A wake-up whose first wait (until `deadline` from now) was ended by a signal, so its timer
    /// is still pending; the signal that stays after waking it is taken.
    private func pendingTimer(in deadline: Duration) async -> Wakeup {
        let wakeup = Wakeup()
        let first = Task { await wakeup.wait(until: .now + deadline) }
        try? await Task.sleep(for: .milliseconds(5))
        wakeup.signal()
        await first.value
        await wakeup.wait(until: .now)
        return wakeup
    }

    @Test("a wait whose deadline is after a pending timer's ends at its own deadline (that timer re-arms for it)")
    func laterDeadlineAfterPendingTimer() async {
        let wakeup = await pendingTimer(in: .milliseconds(30))
        let started = ContinuousClock.now
        await wakeup.wait(until: .now + .milliseconds(80))
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(80) && waited < .seconds(5))
    }

    @Test("a wait whose deadline is before a pending timer's gets its own timer")
    func earlierDeadlineThanPendingTimer() async {
        let wakeup = await pendingTimer(in: .seconds(30))
        let started = ContinuousClock.now
        await wakeup.wait(until: .now + .milliseconds(20))
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
