import Dispatcher
import Kafka
import Testing

@Suite("Producer roles: each producer's own settings, under the user's properties and profile")
struct ProducerRoleTests {
    @Test("a role's defaults, then kafka.properties, then kafka.producers.<role>, each over the last")
    func layering() {
        var kafka = KafkaConfiguration(bootstrapServers: "b:9092", properties: ["client.id": "wxpush", "batch.num.messages": "500"])
        kafka.producerProfiles = ["sent_log": ["linger.ms": "2"]]
        let outcomes = ProducerRole.outcomes.configuration(kafka).properties
        #expect(outcomes["linger.ms"] == "5")
        #expect(outcomes["batch.num.messages"] == "500", "the user's property wins over the role's default")
        #expect(outcomes["client.id"] == "wxpush")
        #expect(ProducerRole.sentLog.configuration(kafka).properties["linger.ms"] == "2", "the profile wins for its role")
        #expect(ProducerRole.intake.configuration(kafka).properties["linger.ms"] == "0")
        #expect(ProducerRole.sentLog.configuration(kafka).bootstrapServers == "b:9092")
    }
}
