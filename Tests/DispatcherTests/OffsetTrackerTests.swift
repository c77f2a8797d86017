import Dispatcher
import Testing

@Suite("OffsetTracker: the commit point moves over a contiguous done prefix")
struct OffsetTrackerTests {
    @Test("in-order completion moves the commit point one by one")
    func inOrder() {
        var tracker = OffsetTracker()
        for offset in 0..<3 { tracker.received(Int64(offset)) }
        #expect(tracker.committable == nil)
        #expect(tracker.completed(0) == 1)
        #expect(tracker.completed(1) == 2)
        #expect(tracker.completed(2) == 3)
        #expect(tracker.inFlight == 0)
    }

    @Test("out-of-order completion waits for the lowest record")
    func outOfOrder() {
        var tracker = OffsetTracker()
        for offset in 10..<15 { tracker.received(Int64(offset)) }
        #expect(tracker.completed(12) == nil)
        #expect(tracker.completed(11) == nil)
        #expect(tracker.committable == nil)
        #expect(tracker.completed(10) == 13)
        #expect(tracker.inFlight == 2)
        #expect(tracker.completed(14) == nil)
        #expect(tracker.completed(13) == 15)
    }

    @Test("gaps in offsets (compaction, transaction markers) do not stall the commit point")
    func gaps() {
        var tracker = OffsetTracker()
        for offset in [5, 7, 20] as [Int64] { tracker.received(offset) }
        #expect(tracker.completed(7) == nil)
        #expect(tracker.completed(5) == 8)
        #expect(tracker.completed(20) == 21)
    }

    @Test("an unknown or repeated completion changes nothing")
    func unknown() {
        var tracker = OffsetTracker()
        tracker.received(1)
        #expect(tracker.completed(99) == nil)
        #expect(tracker.completed(1) == 2)
        #expect(tracker.completed(1) == nil)
        #expect(tracker.committable == 2)
    }

    @Test("a long run of random completion orders always commits exactly the done prefix")
    func randomOrders() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<50 {
            var tracker = OffsetTracker()
            let offsets = Array(Int64(0)..<200)
            offsets.forEach { tracker.received($0) }
            var done = Set<Int64>()
            for offset in offsets.shuffled(using: &generator) {
                tracker.completed(offset)
                done.insert(offset)
                let prefix = offsets.prefix { done.contains($0) }.last.map { $0 + 1 }
                #expect(tracker.committable == prefix)
            }
        }
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("OffsetTracker: a log that moves backwards")
struct OffsetTrackerResetTests {
    @Test("an offset at or below the last one starts the tracker over instead of trapping")
    func backwards() {
        var tracker = OffsetTracker()
        let first = tracker.received(10)
        #expect(first)
        #expect(tracker.completed(10) == 11)
        let inOrder = tracker.received(3)
        #expect(!inOrder)
        #expect(tracker.committable == nil)
        #expect(tracker.completed(3) == 4)
    }
}
