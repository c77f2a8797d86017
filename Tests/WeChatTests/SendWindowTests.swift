import Testing
import Waiting
import WeChat

@Suite("SendWindow: sends in flight to one host, opened with the answers, halved on failures")
struct SendWindowTests {
    typealias Window = SendWindow<ManualClock.Instant>
    let clock = ManualClock()

    @Test("it starts small and doubles each round trip while every permit is in use")
    func slowStart() {
        var window = Window(initial: 8, maximum: 512)
        #expect(window.permits == 8)
        for _ in 0..<8 { window.answered(after: .milliseconds(20), inFlight: window.permits, at: clock.now) }
        #expect(window.permits == 16)
        for _ in 0..<16 { window.answered(after: .milliseconds(20), inFlight: window.permits, at: clock.now) }
        #expect(window.permits == 32)
    }

    @Test("an idle window does not grow: it has shown nothing about a bigger one")
    func idle() {
        var window = Window(initial: 8, maximum: 512)
        for _ in 0..<100 { window.answered(after: .milliseconds(20), inFlight: 2, at: clock.now) }
        #expect(window.permits == 8)
    }

    @Test("it never passes max_connections, nor falls under its minimum")
    func bounds() {
        var window = Window(initial: 8, minimum: 4, maximum: 20)
        for _ in 0..<100 { window.answered(after: .milliseconds(20), inFlight: 100, at: clock.now) }
        #expect(window.permits == 20)
        for _ in 0..<10 {
            for _ in 0..<32 { window.failed(at: clock.now) }
            clock.advance(by: Window.decreaseInterval)
        }
        #expect(window.permits == 4)
    }

    @Test("a round with half of its sends failed halves it, once for the burst one overload causes; then it grows by one a round trip")
    func failures() {
        var window = Window(initial: 64, maximum: 512)
        for _ in 0..<32 { window.answered(after: .milliseconds(20), inFlight: 0, at: clock.now) }
        for _ in 0..<32 { window.failed(at: clock.now) }
        #expect(window.permits == 32)
        #expect(!window.slowStart)
        // The same overload's next round, within the decrease interval: no second halving.
        for _ in 0..<32 { window.failed(at: clock.now.advanced(by: .milliseconds(100))) }
        #expect(window.permits == 32)
        var answers = 0
        while window.permits == 32 && answers < 100 {
            window.answered(after: .milliseconds(20), inFlight: window.permits, at: clock.now)
            answers += 1
        }
        #expect((32...34).contains(answers), "one round trip of answers (\(answers)) adds one permit")
    }

    @Test("one send in six failing at random does not shrink it, even a small window")
    func randomFaults() {
        var window = Window(initial: 8, maximum: 8)
        for index in 0..<1_000 {
            clock.advance(by: .milliseconds(10))
            if index % 6 == 0 {
                window.failed(at: clock.now)
            } else {
                window.answered(after: .milliseconds(20), inFlight: 8, at: clock.now)
            }
        }
        #expect(window.permits == 8)
    }

    @Test("answers four times slower than the fastest (plus 50 ms) hold it; a delayed-ACK 40 ms or CPU noise does not")
    func hold() {
        var window = Window(initial: 8, maximum: 512)
        for _ in 0..<8 { window.answered(after: .milliseconds(20), inFlight: window.permits, at: clock.now) }
        #expect(window.permits == 16)
        // 60 ms answers (20 ms + a 40 ms delayed ACK) still grow it.
        for _ in 0..<16 { window.answered(after: .milliseconds(60), inFlight: window.permits, at: clock.now) }
        #expect(window.permits == 32)
        // Half-second answers: the server queues; the window holds, and leaves slow start.
        for _ in 0..<64 { window.answered(after: .milliseconds(500), inFlight: window.permits, at: clock.now) }
        let held = window.permits
        #expect(held < 40)
        #expect(!window.slowStart)
        for _ in 0..<64 { window.answered(after: .milliseconds(500), inFlight: window.permits, at: clock.now) }
        #expect(window.permits == held)
    }

    @Test("the fastest answer is forgotten after two epochs: a server that became slower for good is the new normal")
    func baselineFollows() {
        var window = Window(initial: 8, maximum: 512)
        window.answered(after: .milliseconds(10), inFlight: 1, at: clock.now)
        clock.advance(by: Window.epoch)
        window.answered(after: .milliseconds(200), inFlight: 1, at: clock.now)
        #expect(window.baseline == .milliseconds(10))
        clock.advance(by: Window.epoch)
        window.answered(after: .milliseconds(200), inFlight: 1, at: clock.now)
        #expect(window.baseline == .milliseconds(200))
    }
}
