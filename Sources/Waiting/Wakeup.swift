import Dispatch
import Synchronization

/// The one waiting primitive of wxpush: a level-triggered wake-up for one waiting task.
///
/// `signal` from any thread (a librdkafka callback, a finished child task); `wait` from the one task
/// that owns the state being watched. A signal sent while nobody waits is kept for the next `wait`,
/// so "check the state, then wait" never misses a change. Waiters re-check
/// their state after every return: a wake-up says "look again", never "this happened".
public final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
        /// When the current wait ends on its own.
        var deadline: ContinuousClock.Instant?
        /// The earliest deadline timer still pending. A wait whose deadline is at or after it arms
        /// none: that timer, when it fires, re-arms for the wait then current. A task that waits
        /// again and again for the same instant (a partition's next parked record) has one timer,
        /// not one per wait.
        var armed: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { state in
            state.signalled = true
            defer { (state.waiter, state.deadline) = (nil, nil) }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns on a signal (consumed), at `deadline`, or when the task is cancelled.
    public func wait(until deadline: ContinuousClock.Instant? = nil) async {
        await withTaskCancellationHandler {
            await suspend(until: deadline, observingCancellation: true)
        } onCancel: {
            signal()
        }
    }

    /// Like `wait`, but cancellation does not end it: for waits that must outlast a cancelled
    /// task (a consumer waiting for its partition handlers to return).
    public func waitIgnoringCancellation(until deadline: ContinuousClock.Instant? = nil) async {
        await suspend(until: deadline, observingCancellation: false)
    }

    private func suspend(until deadline: ContinuousClock.Instant?, observingCancellation: Bool) async {
        await withCheckedContinuation { continuation in
            let (waiting, arm) = state.withLock { state -> (Bool, ContinuousClock.Instant?) in
                let expired = deadline.map { $0 <= .now } ?? false
                if state.signalled || expired || (observingCancellation && Task.isCancelled) {
                    state.signalled = false
                    return (false, nil)
                }
                state.waiter = continuation
                state.deadline = deadline
                return (true, Self.timerNeeded(&state))
            }
            guard waiting else { return continuation.resume() }
            if let arm { armTimer(at: arm) }
        }
    }

    /// The instant to arm a timer at for the current wait, if no pending one comes first.
    private static func timerNeeded(_ state: inout State) -> ContinuousClock.Instant? {
        guard let deadline = state.deadline, state.waiter != nil, state.armed.map({ deadline < $0 }) ?? true else { return nil }
        state.armed = deadline
        return deadline
    }

    /// At `instant`: ends the current wait if its deadline came, else arms for it when needed.
    private func armTimer(at instant: ContinuousClock.Instant) {
        let nanoseconds = max(0, (instant - .now).nanoseconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { [self] in
            let (waiter, arm) = state.withLock { state -> (CheckedContinuation<Void, Never>?, ContinuousClock.Instant?) in
                if state.armed == instant { state.armed = nil }
                guard let deadline = state.deadline, state.waiter != nil else { return (nil, nil) }
                guard deadline <= .now else { return (nil, Self.timerNeeded(&state)) }
                defer { (state.waiter, state.deadline) = (nil, nil) }
                return (state.waiter, nil)
            }
            waiter?.resume()
            if let arm { armTimer(at: arm) }
        }
    }
}

extension Duration {
    /// In seconds, for printing and rates.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// Whole nanoseconds, saturating.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
