import Testing

@testable import Dispatcher

@Suite("Metric labels from events come from bounded sets")
struct MetricLabelTests {
    @Test("an account or type nobody configured counts as other")
    func boundedLabels() {
        let labels = DispatchMetrics.Labels(accounts: ["default"], types: ["order.shipped"])
        #expect(labels.account("default") == "default")
        #expect(labels.account("x-\(UInt64.random(in: 0...UInt64.max))") == "other")
        #expect(labels.type("order.shipped") == "order.shipped")
        #expect(labels.type(String(repeating: "t", count: 30_000)) == "other")
        #expect(labels.type(nil) == "")
    }
}
