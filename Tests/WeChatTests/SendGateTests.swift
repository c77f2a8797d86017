import Testing

@testable import WeChat

@Suite("SendGate: sends beyond the window wait their turn, in order, within their deadline")
struct SendGateTests {
    @Test("the window's permits go at once; the next waits until one leaves, then enters")
    func turns() async throws {
        let gate = SendGate(host: "test", maximum: 8)
        for _ in 0..<8 { #expect(await gate.enter(until: .now + .seconds(5))) }
        #expect(gate.snapshot.permits == 8 && gate.snapshot.inFlight == 8)
        let waiting = Task { await gate.enter(until: .now + .seconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(gate.snapshot.inFlight == 8)
        gate.leave(roundTrip: .milliseconds(20), failed: false)
        #expect(await waiting.value)
    }

    @Test("a wait ends at its deadline, not written, and the window is as it was")
    func deadline() async {
        let gate = SendGate(host: "test", maximum: 8)
        for _ in 0..<8 { #expect(await gate.enter(until: .now + .seconds(5))) }
        #expect(await !gate.enter(until: .now + .milliseconds(100)))
        #expect(gate.snapshot.inFlight == 8)
        // Its place in line is gone: a permit freed later goes to the next caller at once.
        gate.leave(roundTrip: .milliseconds(20), failed: false)
        #expect(await gate.enter(until: .now + .seconds(5)))
    }

    @Test("a cancelled wait ends at once; the next in line still gets the freed permit")
    func cancellation() async throws {
        let gate = SendGate(host: "test", maximum: 8)
        for _ in 0..<8 { #expect(await gate.enter(until: .now + .seconds(5))) }
        let cancelled = Task { await gate.enter(until: .now + .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        let next = Task { await gate.enter(until: .now + .seconds(30)) }
        try await Task.sleep(for: .milliseconds(20))
        cancelled.cancel()
        #expect(await !cancelled.value)
        gate.leave(roundTrip: .milliseconds(20), failed: false)
        #expect(await next.value)
    }
}
