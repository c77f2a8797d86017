import Synchronization

/// Per-key ordering inside a partition: a record starts only after the previous record with the
/// same key (openid) has finished; records with different keys run concurrently.
struct KeyedOrder {
    private var last: [[UInt8]: Turn] = [:]
    private var enqueued = 0

    /// The turn for a new record: it waits for `previous`, then signals its own completion.
    mutating func enqueue(key: [UInt8]?) -> (previous: Turn?, own: Turn) {
        let own = Turn()
        guard let key else { return (nil, own) }
        let previous = last[key]
        last[key] = own
        enqueued += 1
        if enqueued % 1024 == 0 { last = last.filter { !$0.value.isFinished } }
        return (previous, own)
    }
}

/// Fired once when a record has finished; waited on by the next record of its key.
final class Turn: Sendable {
    private struct State {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    var isFinished: Bool { state.withLock { $0.finished } }

    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
