import Dispatcher
import Testing

@Suite("Commit metadata and capped outcomes")
struct CommitMetadataTests {
    @Test("done offsets above the commit point round-trip")
    func roundTrip() {
        let bytes = CommitMetadata.encode(doneAbove: [105, 102, 103, 108, 109, 110, 99], committed: 100)
        #expect(String(decoding: bytes, as: UTF8.self) == "wx1:2-3,5,8-10")
        #expect(CommitMetadata.decode(bytes, committed: 100) == [102, 103, 105, 108, 109, 110])
    }

    @Test("nothing above, foreign or malformed metadata: nothing to skip")
    func emptyAndForeign() {
        #expect(CommitMetadata.encode(doneAbove: [], committed: 5).isEmpty)
        #expect(CommitMetadata.decode(Array("hello".utf8), committed: 5).isEmpty)
        #expect(CommitMetadata.decode(Array("wx1:2,x".utf8), committed: 5).isEmpty)
        #expect(CommitMetadata.decode(Array("wx1:0".utf8), committed: 5).isEmpty)
        #expect(CommitMetadata.decode(Array("wx1:5-3".utf8), committed: 5).isEmpty)
    }

    @Test("the sent log's floor rides along, with or without done offsets, and within the limit")
    func sentLogFloor() {
        let both = CommitMetadata.encode(doneAbove: [102, 103], committed: 100, sentLogFloor: 4_711)
        #expect(String(decoding: both, as: UTF8.self) == "wx1:2-3|s4711")
        #expect(CommitMetadata.decode(both, committed: 100) == [102, 103])
        #expect(CommitMetadata.sentLogFloor(both) == 4_711)
        let floorOnly = CommitMetadata.encode(doneAbove: [], committed: 100, sentLogFloor: 0)
        #expect(String(decoding: floorOnly, as: UTF8.self) == "wx1:|s0")
        #expect(CommitMetadata.decode(floorOnly, committed: 100).isEmpty)
        #expect(CommitMetadata.sentLogFloor(floorOnly) == 0)
        #expect(CommitMetadata.sentLogFloor(CommitMetadata.encode(doneAbove: [102], committed: 100)) == nil)
        #expect(CommitMetadata.sentLogFloor(Array("hello|s5".utf8)) == nil)
        let many = (1...5_000).map { Int64(1_000_000 + $0 * 7) }
        let bounded = CommitMetadata.encode(doneAbove: many, committed: 1_000_000, sentLogFloor: 123_456_789)
        #expect(bounded.count <= CommitMetadata.maximumBytes)
        #expect(CommitMetadata.sentLogFloor(bounded) == 123_456_789)
    }

    @Test("without a limit (the progress log) every done offset is kept")
    func unlimited() {
        let offsets = (1...5_000).map { Int64(1_000_000 + $0 * 7) }
        let bytes = CommitMetadata.encode(doneAbove: offsets, committed: 1_000_000, limit: .max)
        #expect(CommitMetadata.decode(bytes, committed: 1_000_000) == Set(offsets))
    }

    @Test("the encoding stays under the metadata limit; what does not fit is redone")
    func bounded() {
        let offsets = (1...5_000).map { Int64(1_000_000 + $0 * 7) }
        let bytes = CommitMetadata.encode(doneAbove: offsets, committed: 1_000_000)
        #expect(bytes.count <= CommitMetadata.maximumBytes)
        let decoded = CommitMetadata.decode(bytes, committed: 1_000_000)
        #expect(!decoded.isEmpty && decoded.count < offsets.count)
        #expect(decoded.isSubset(of: Set(offsets)))
    }

    @Test("cap cuts on a character boundary and marks the cut")
    func cap() {
        #expect(Outcome.cap("short", 10) == "short")
        let capped = Outcome.cap(String(repeating: "订", count: 100), 20)
        #expect(capped.utf8.count <= 20)
        #expect(capped.hasSuffix("…"))
        #expect(Outcome.cap(String(repeating: "x", count: 1_100_000), Outcome.idLimit).utf8.count <= Outcome.idLimit)
    }
}
