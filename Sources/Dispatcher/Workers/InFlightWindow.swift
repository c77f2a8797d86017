import DequeModule
import Synchronization

/// At most `limit` records of a partition in flight; `acquire` waits for a free slot.
final class InFlightWindow: Sendable {
    private struct State {
        var available: Int
        var waiters: Deque<CheckedContinuation<Void, Never>> = []
    }
    private let state: Mutex<State>
    let limit: Int

    init(limit: Int) {
        self.limit = limit
        state = Mutex(State(available: limit))
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }

    var isIdle: Bool { state.withLock { $0.available == limit } }
}
