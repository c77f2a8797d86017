import Synchronization

/// A level-triggered wake-up for one waiting task: `signal` from any thread (a librdkafka callback),
/// `wait` from the one consuming task. A signal sent while nobody waits is kept until the next `wait`.
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func signal() {
        let waiter = state.withLock { state in
            state.signalled = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Wakes the waiter for good: every later `wait` returns at once.
    func close() {
        let waiter = state.withLock { state in
            state.closed = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// Forgets earlier signals; call before checking the source, so a signal that follows is not lost.
    func reset() { state.withLock { $0.signalled = false } }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.signalled || state.closed || Task.isCancelled {
                        state.signalled = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}
