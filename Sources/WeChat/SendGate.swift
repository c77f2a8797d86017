import Metrics
import Synchronization
import Waiting

/// The sends to one WeChat host pass here: at most `SendWindow.permits` at once, the others wait
/// their turn in arrival order. A send still waiting at its deadline was never written, so it is
/// safe to make again, whatever its kind.
final class SendGate: Sendable {
    private struct State {
        var window: SendWindow<ContinuousClock.Instant>
        var inFlight = 0
        var waiting: [Wakeup] = []
    }

    private let state: Mutex<State>
    private let gauge: Gauge

    init(host: String, maximum: Int) {
        state = Mutex(State(window: SendWindow(maximum: maximum)))
        gauge = Gauge(label: "wxpush_wechat_send_window", dimensions: [("host", host)])
        gauge.record(state.withLock { $0.window.permits })
    }

    /// Sends allowed in flight now, and sends in flight.
    var snapshot: (permits: Int, inFlight: Int) { state.withLock { ($0.window.permits, $0.inFlight) } }

    /// Waits for a permit until `deadline`: false when the deadline passed, or the task was
    /// cancelled, first.
    func enter(until deadline: ContinuousClock.Instant) async -> Bool {
        let turn = Wakeup()
        var queued = false
        while true {
            let late = Task.isCancelled || ContinuousClock.now >= deadline
            let admitted = state.withLock { state -> Bool in
                let first = state.waiting.isEmpty || state.waiting.first === turn
                if !late && first && state.inFlight < state.window.permits {
                    if queued { state.waiting.removeFirst() }
                    state.inFlight += 1
                    return true
                }
                if !queued { state.waiting.append(turn) }
                queued = true
                return false
            }
            if admitted {
                wakeWaiting()
                return true
            }
            if late {
                state.withLock { $0.waiting.removeAll { $0 === turn } }
                wakeWaiting()
                return false
            }
            await turn.wait(until: deadline)
        }
    }

    /// The send that entered is over: answered after `roundTrip`, or failed without a usable answer.
    func leave(roundTrip: Duration, failed: Bool) {
        let permits = state.withLock { state in
            if failed {
                state.window.failed(at: .now)
            } else {
                state.window.answered(after: roundTrip, inFlight: state.inFlight, at: .now)
            }
            state.inFlight -= 1
            return state.window.permits
        }
        gauge.record(permits)
        wakeWaiting()
    }

    /// Wakes the first in line when a permit is free (it wakes the next once it is in).
    private func wakeWaiting() {
        let next = state.withLock { state in state.inFlight < state.window.permits ? state.waiting.first : nil }
        next?.signal()
    }
}
