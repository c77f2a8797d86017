import Synchronization
import WeChat

/// A `TokenFetching` that counts calls, answers from a script (then "token-N", 7200 s), and can hold
/// every call at a gate so a test can pile up concurrent callers behind one refresh.
final class ScriptedFetcher: TokenFetching {
    private struct State {
        var calls = 0
        var script: [Result<(token: String, expiresIn: Duration), WeChatError>] = []
        var gateClosed = false
        var held: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    init(script: [Result<(token: String, expiresIn: Duration), WeChatError>] = [], gateClosed: Bool = false) {
        state.withLock {
            $0.script = script
            $0.gateClosed = gateClosed
        }
    }

    var calls: Int { state.withLock { $0.calls } }
    var heldCalls: Int { state.withLock { $0.held.count } }

    func openGate() {
        let held = state.withLock { state in
            state.gateClosed = false
            defer { state.held = [] }
            return state.held
        }
        for call in held {
            call.resume()
        }
    }

    func fetchToken(forceRefresh: Bool) async throws(WeChatError) -> (token: String, expiresIn: Duration) {
        await withCheckedContinuation { continuation in
            let pass = state.withLock { state -> Bool in
                guard state.gateClosed else { return true }
                state.held.append(continuation)
                return false
            }
            if pass {
                continuation.resume()
            }
        }
        let result = state.withLock { state in
            state.calls += 1
            return state.script.isEmpty ? .success(("token-\(state.calls)", .seconds(7200))) : state.script.removeFirst()
        }
        return try result.get()
    }
}

/// Yields until `condition` holds, at most `attempts` times; returns whether it held.
func eventually(attempts: Int = 100_000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<attempts {
        if condition() { return true }
        await Task.yield()
    }
    return condition()
}
