import Foundation
import Kafka
import Logging
import Testing

/// A client no one here wrote (Debian's kcat) against a running `wxpush dev-kafka`, both ways.
@Suite("kcat interop with wxpush dev-kafka")
struct KcatInteropTests {
    @Test("kcat produces and consumes; the binding reads what kcat wrote and kcat reads what it wrote; SIGTERM exits 0")
    func kcatRoundTrip() async throws {
        let devKafka = try WXPushProcess(["dev-kafka", "--brokers", "2", "--topic", "from-kcat:3", "--topic", "from-swift:2"])
        let bootstrap = try await devKafka.firstLine()
        #expect(bootstrap.contains("127.0.0.1:"))

        let lines = (0..<100).map { "user-\($0 % 7):message-\($0)" }
        _ = try await runTool(
            "/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "from-kcat", "-K:"], input: lines.joined(separator: "\n") + "\n")
        let readByKcat = try await runTool(
            "/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "from-kcat", "-o", "beginning", "-e", "-q", "-f", "%k:%s\\n"]
        )
        #expect(Set(readByKcat.split(separator: "\n").map(String.init)) == Set(lines))

        // The binding consumes what kcat produced.
        let configuration = KafkaConfiguration(bootstrapServers: bootstrap, properties: ["session.timeout.ms": "6000"])
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "interop-\(UUID().uuidString.prefix(6))", topics: ["from-kcat"], logger: quiet)
        let seen = LockedData()
        let count = Counter()
        let running = Task {
            try await consumer.run { partition in
                for await message in partition.messages {
                    seen.append(
                        Data(
                            (String(decoding: message.key ?? [], as: UTF8.self) + ":" + String(decoding: message.value, as: UTF8.self)
                                + "\n").utf8))
                    if count.increment() == lines.count { consumer.triggerGracefulShutdown() }
                }
            }
        }
        try await eventually("the binding to read 100 messages") { count.value >= lines.count }
        try await running.value
        #expect(Set(seen.string.split(separator: "\n").map(String.init)) == Set(lines))

        // kcat consumes what the binding produced.
        let producer = try KafkaProducer(configuration: configuration, logger: quiet)
        for index in 0..<50 {
            try await producer.send(KafkaRecord(topic: "from-swift", key: "k\(index)", value: "swift-\(index)"))
        }
        let fromSwift = try await runTool(
            "/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "from-swift", "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n"]
        )
        #expect(Set(fromSwift.split(separator: "\n").map(String.init)) == Set((0..<50).map { "k\($0)=swift-\($0)" }))

        devKafka.signal(SIGTERM)
        #expect(try await devKafka.waitForExit() == 0)
    }
}

final class Counter: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var count = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; count += 1; return count }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// The cluster goes away at the end of the test: the clients' connection errors then are expected.
private let quiet: Logger = {
    var logger = Logger(label: "wxpush.test.kcat")
    logger.logLevel = .critical
    return logger
}()
