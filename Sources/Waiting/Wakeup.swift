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
        /// Tells a deadline timer whether the wait it was armed for is still the current one.
        var generation: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { state in
            state.signalled = true
            defer { state.waiter = nil }
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
            let generation: UInt64? = state.withLock { state in
                let expired = deadline.map { $0 <= .now } ?? false
                if state.signalled || expired || (observingCancellation && Task.isCancelled) {
                    state.signalled = false
                    return nil
                }
                state.generation &+= 1
                state.waiter = continuation
                return state.generation
            }
            guard let generation else { return continuation.resume() }
            if let deadline { armTimer(at: deadline, generation: generation) }
        }
    }

    /// Resumes the wait armed as `generation` at `deadline`, unless it already returned.
    private func armTimer(at deadline: ContinuousClock.Instant, generation: UInt64) {
        let nanoseconds = max(0, (deadline - .now).nanoseconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { [self] in
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard state.generation == generation else { return nil }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
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
