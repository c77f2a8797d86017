import Dispatcher
import Kafka
import Testing

@Suite("TopicPlan: what each topic needs, checked against what the brokers have")
struct TopicPlanTests {
    let plan = TopicPlan(settings: DispatcherSettings(), requestPartitions: 6, replicationFactor: 3)

    /// Every planned topic as planned, on `brokers` brokers with full replication.
    func asPlanned(brokers: Int = 3) -> [String: TopicPlan.Found] {
        Dictionary(
            uniqueKeysWithValues: plan.topics.map { topic in
                (
                    topic.name,
                    TopicPlan.Found(
                        shape: TopicShape(partitions: topic.partitions, replicationFactor: min(3, brokers), brokers: brokers),
                        configs: topic.configs)
                )
            })
    }

    @Test("the plan lists the topics of the configuration, with the demand topic only when limits are shared")
    func topics() {
        #expect(
            plan.topics.map(\.name) == [
                "wxpush.requests", "wxpush.results", "wxpush.dlq", "wxpush.progress", "wxpush.sent", "wxpush.msgids", "wxpush.recipients",
                "wxpush.delay.5s", "wxpush.delay.30s", "wxpush.delay.3m", "wxpush.delay.15m", "wxpush.delay.1h", "wxpush.delay.4h",
                "wxpush.demand",
            ])
        let unlimited = TopicPlan(settings: DispatcherSettings(), sharesLimits: false)
        #expect(!unlimited.topics.map(\.name).contains("wxpush.demand"))
        var settings = DispatcherSettings()
        settings.exactlyOnce = false
        settings.sentTopic = ""
        settings.recipientsTopic = ""
        settings.delays = DelayTiers(prefix: "")
        #expect(
            TopicPlan(settings: settings).topics.map(\.name) == [
                "wxpush.requests", "wxpush.results", "wxpush.dlq", "wxpush.msgids", "wxpush.demand",
            ])
    }

    @Test("the layout as planned passes without a warning")
    func asPlannedPasses() {
        #expect(plan.check(asPlanned()) == TopicPlan.Verdict())
    }

    @Test("a missing topic, a sent log unlike the requests and a progress log of 4 partitions are problems, each naming the fix")
    func partitionProblems() {
        var found = asPlanned()
        found["wxpush.dlq"] = TopicPlan.Found(shape: nil, configs: nil)
        found["wxpush.sent"] = TopicPlan.Found(shape: TopicShape(partitions: 4, replicationFactor: 3, brokers: 3), configs: nil)
        found["wxpush.progress"] = TopicPlan.Found(shape: TopicShape(partitions: 4, replicationFactor: 3, brokers: 3), configs: nil)
        let verdict = plan.check(found)
        #expect(verdict.problems.count == 3)
        #expect(verdict.problems[0].hasPrefix("kafka.topics.dlq: wxpush.dlq does not exist; create it with partitions=1"))
        #expect(verdict.problems[1].hasPrefix("kafka.topics.progress: wxpush.progress has 4 partitions, needs 1"))
        #expect(
            verdict.problems[2].hasPrefix(
                "kafka.topics.sent: wxpush.sent has 4 partitions, the requests topic wxpush.requests 6: the sent log is partitioned like the requests; recreate it with partitions=6"
            ))
    }

    @Test("a compacted results topic and a progress log that deletes are problems; a sent log without compaction only a warning")
    func policyProblems() {
        var found = asPlanned()
        let shape = TopicShape(partitions: 12, replicationFactor: 3, brokers: 3)
        found["wxpush.results"] = TopicPlan.Found(shape: shape, configs: ["cleanup.policy": "compact"])
        found["wxpush.progress"] = TopicPlan.Found(
            shape: TopicShape(partitions: 1, replicationFactor: 3, brokers: 3), configs: ["cleanup.policy": "delete"])
        found["wxpush.sent"] = TopicPlan.Found(
            shape: TopicShape(partitions: 6, replicationFactor: 3, brokers: 3), configs: ["cleanup.policy": "delete"])
        let verdict = plan.check(found)
        #expect(verdict.problems.count == 2)
        #expect(verdict.problems[0].hasPrefix("kafka.topics.results: wxpush.results is compacted (cleanup.policy=compact)"))
        #expect(verdict.problems[1].hasPrefix("kafka.topics.progress: wxpush.progress has cleanup.policy=delete"))
        #expect(
            verdict.warnings == [
                "kafka.topics.sent: wxpush.sent has cleanup.policy=delete, the plan compact,delete: it grows or forgets unlike planned"
            ])
    }

    @Test("replication below what the brokers allow is a warning; one broker with one replica is not")
    func replication() {
        var found = asPlanned()
        found["wxpush.results"] = TopicPlan.Found(shape: TopicShape(partitions: 12, replicationFactor: 1, brokers: 3), configs: nil)
        let verdict = plan.check(found)
        #expect(verdict.problems.isEmpty)
        #expect(verdict.warnings.count == 1)
        #expect(verdict.warnings[0].hasPrefix("kafka.topics.results: wxpush.results has replication 1 on 3 brokers"))
        #expect(plan.check(asPlanned(brokers: 1)) == TopicPlan.Verdict())
    }
}
