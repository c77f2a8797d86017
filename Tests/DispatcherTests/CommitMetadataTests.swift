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
