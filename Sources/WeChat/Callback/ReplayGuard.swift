import Foundation
import Synchronization

/// A plaintext callback's signature covers the token, timestamp and nonce, not the body (WeChat's
/// design): within the timestamp's skew window one captured query could carry any body. This
/// remembers each signature with its body for the window and refuses the signature with another
/// body; the same body again is WeChat repeating a callback, which the receipt de-duplication
/// answers. Bounded by count: past `capacity`, the oldest are forgotten.
final class ReplayGuard: Sendable {
    private struct State {
        var bodies: [String: Int] = [:]
        var order: [(signature: String, at: Date)] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let window: TimeInterval
    private let capacity: Int

    init(window: Duration, capacity: Int = 100_000) {
        self.window = Double(window.components.seconds)
        self.capacity = capacity
    }

    /// False when `signature` came before, within the window, with another body.
    func admit(signature: String, body: String, now: Date) -> Bool {
        let digest = body.hashValue
        return state.withLock { state in
            while state.head < state.order.count,
                state.order.count - state.head > capacity || now.timeIntervalSince(state.order[state.head].at) > 2 * window
            {
                state.bodies[state.order[state.head].signature] = nil
                state.head += 1
            }
            if state.head > 1024, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            if let seen = state.bodies[signature] { return seen == digest }
            state.bodies[signature] = digest
            state.order.append((signature, now))
            return true
        }
    }
}
