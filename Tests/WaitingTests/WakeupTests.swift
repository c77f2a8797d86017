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
}
