import Dispatcher
import Testing
import Waiting

@Suite("CircuitBreaker: open on repeated failures, one probe, closed again when it succeeds")
struct CircuitBreakerTests {
    typealias Breaker = CircuitBreaker<ManualClock>
    let clock = ManualClock()

    func failures(_ breaker: inout Breaker, _ count: Int) {
        for _ in 0..<count { breaker.record(healthy: false, now: clock.now) }
    }

    @Test("it opens after the threshold of failures in a row; a success in between starts the count over")
    func opensAtThreshold() {
        var breaker = Breaker(settings: .init(threshold: 3, open: .seconds(2)))
        failures(&breaker, 2)
        breaker.record(healthy: true, now: clock.now)
        failures(&breaker, 2)
        #expect(breaker.permit(now: clock.now) == .go)
        breaker.record(healthy: false, now: clock.now)
        #expect(breaker.permit(now: clock.now) == .wait(until: clock.now.advanced(by: .seconds(2))))
    }

    @Test("once the open time is over, one probe goes and the others keep waiting")
    func oneProbe() {
        var breaker = Breaker(settings: .init(threshold: 1, open: .seconds(2)))
        failures(&breaker, 1)
        clock.advance(by: .seconds(2))
        #expect(breaker.permit(now: clock.now) == .probe)
        #expect(breaker.permit(now: clock.now) == .wait(until: clock.now.advanced(by: .seconds(1))))
        breaker.record(healthy: true, now: clock.now)
        #expect(breaker.isClosed)
        #expect(breaker.permit(now: clock.now) == .go)
    }

    @Test("a failed probe opens it again for twice as long, up to the maximum")
    func backsOff() {
        var breaker = Breaker(settings: .init(threshold: 1, open: .seconds(2), maxOpen: .seconds(5)))
        failures(&breaker, 1)
        var opened: [Duration] = []
        for _ in 0..<3 {
            guard case .wait(let until) = breaker.permit(now: clock.now) else { Issue.record("not open"); return }
            opened.append(clock.now.duration(to: until))
            clock.advance(by: clock.now.duration(to: until))
            #expect(breaker.permit(now: clock.now) == .probe)
            breaker.record(healthy: false, now: clock.now)
        }
        #expect(opened == [.seconds(2), .seconds(4), .seconds(5)])
    }

    @Test("answers from sends that started before it opened change nothing; a lost probe does not block forever")
    func lateAnswersAndLostProbes() {
        var breaker = Breaker(settings: .init(threshold: 1, open: .seconds(2), probeTimeout: .seconds(15)))
        failures(&breaker, 1)
        breaker.record(healthy: true, now: clock.now)
        #expect(!breaker.isClosed)
        clock.advance(by: .seconds(2))
        #expect(breaker.permit(now: clock.now) == .probe)
        clock.advance(by: .seconds(15))
        #expect(breaker.permit(now: clock.now) == .probe)
    }
}
