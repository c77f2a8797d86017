import Testing

@testable import Dispatcher

@Suite("Demand exchange: shares by demand")
struct DemandExchangeTests {
    @Test("a tenth by partitions, the rest by demand; the group's shares add up to the budget")
    func shares() {
        // Three instances, two partitions each; all the demand on the first two.
        let shares = [(1.0 / 3, 600), (1.0 / 3, 200), (1.0 / 3, 0)].map {
            DemandExchange.share(partitionShare: $0.0, demand: $0.1, totalDemand: 800)!
        }
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
        #expect(abs(shares[0] - (0.1 / 3 + 0.9 * 0.75)) < 1e-9)
        #expect(abs(shares[2] - 0.1 / 3) < 1e-9, "an idle instance keeps a tenth of its partition share")
        #expect(DemandExchange.share(partitionShare: 0.5, demand: 0, totalDemand: 0) == nil, "nobody waits: partition shares")
    }

    @Test("down at once, up only when two intervals ask for it, near the partition share not at all")
    func steps() {
        var pending: Double?
        // An even load: a demand share within 10 points of the partition share changes nothing.
        #expect(DemandExchange.step(current: 1.0 / 3, proposed: 0.4, partitionShare: 1.0 / 3, pendingIncrease: &pending) == nil)
        // Skew: an increase waits one interval, then takes the smaller of the two proposals.
        #expect(DemandExchange.step(current: 1.0 / 3, proposed: 0.7, partitionShare: 1.0 / 3, pendingIncrease: &pending) == 1.0 / 3)
        #expect(DemandExchange.step(current: 1.0 / 3, proposed: 0.8, partitionShare: 1.0 / 3, pendingIncrease: &pending) == 0.7)
        // A decrease is taken at once.
        #expect(DemandExchange.step(current: 0.7, proposed: 0.05, partitionShare: 1.0 / 3, pendingIncrease: &pending) == 0.05)
        #expect(pending == nil)
        // Demand gone: back up to the partition share, one interval later.
        #expect(DemandExchange.step(current: 0.05, proposed: nil, partitionShare: 1.0 / 3, pendingIncrease: &pending) == 0.05)
        #expect(DemandExchange.step(current: 0.05, proposed: nil, partitionShare: 1.0 / 3, pendingIncrease: &pending) == nil)
    }
}

@Suite("Internal topics: records anyone could write are range-checked, never trusted")
struct InternalRecordTests {
    @Test("a demand record of 2^62 (two of them overflowed the sum and stopped every instance) is skipped; a sane one is read")
    func demandOutOfRange() {
        func record(demand: Int64, share: Int64 = 500_000) -> [UInt8] {
            Array(#"{"account":"default","instance":"a","demand":\#(demand),"at":1,"share_ppm":\#(share)}"#.utf8)
        }
        #expect(DemandExchange.decode(record(demand: 1 << 62)) == nil)
        #expect(DemandExchange.decode(record(demand: -1)) == nil)
        #expect(DemandExchange.decode(record(demand: 10, share: 2_000_000)) == nil)
        #expect(DemandExchange.decode(record(demand: 10))?.entry.demand == 10)
    }

    @Test("commit metadata that would overflow past Int64.max or name millions of offsets decodes to nothing")
    func commitMetadataOutOfRange() {
        #expect(CommitMetadata.decode(Array("wx1:1-5".utf8), committed: Int64.max - 2).isEmpty)
        let many = "wx1:" + (0..<40).map { "\($0 * 100_000 + 1)-\($0 * 100_000 + 99_999)" }.joined(separator: ",")
        #expect(CommitMetadata.decode(Array(many.utf8), committed: 0).isEmpty)
        #expect(ProgressLog.decode(Array("-5 wx1:".utf8)) == nil)
    }
}
