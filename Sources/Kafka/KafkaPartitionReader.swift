import Foundation
import Logging

/// Reads single partitions to their end, outside any consumer group (read_committed): for the
/// small bookkeeping topics a service reads back at start, not for the data path.
public final class KafkaPartitionReader: Sendable {
    private let client: RDKafkaClient
    /// One read at a time: each assigns the client's one partition.
    private let reading = NSLock()

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wxpush.kafka.reader")) throws(KafkaError) {
        var properties = configuration.consumerProperties(groupID: "wxpush-reader")
        properties["enable.auto.commit"] = "false"
        properties["enable.partition.eof"] = "true"
        properties["isolation.level"] = "read_committed"
        client = try RDKafkaClient(role: .consumer, properties: properties, logger: logger)
    }

    /// The records of `partition` from `offset` to its end (its high watermark now), in order.
    public func read(
        _ partition: TopicPartition, from offset: Int64, timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [KafkaMessage] {
        try await client.blocking(timeout: timeout) { [client, reading] (ms) throws(KafkaError) in
            reading.lock()
            defer { reading.unlock() }
            let end = try client.watermarks(partition, timeoutMilliseconds: ms).high
            return try client.readToEnd(partition, from: offset, to: end, timeoutMilliseconds: ms)
        }
    }

    /// Per partition, the first offset at or after `date` (nil where every record is older).
    public func offsets(
        _ partitions: [TopicPartition], atOrAfter date: Date, timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> [TopicPartition: Int64?] {
        let milliseconds = Int64(date.timeIntervalSince1970 * 1000)
        return try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.offsets(partitions, atOrAfter: milliseconds, timeoutMilliseconds: ms).mapValues { $0 >= 0 ? $0 : nil }
        }
    }

    /// Every record of every partition of `topic` kept now (from `since` when given), partition
    /// by partition in offset order: for operator commands over small topics.
    public func readAll(_ topic: String, since: Date? = nil, timeout: Duration = .seconds(60)) async throws(KafkaError) -> [KafkaMessage] {
        var records: [KafkaMessage] = []
        for index in 0..<(try await partitionCount(of: topic)) {
            let partition = TopicPartition(topic: topic, partition: Int32(index))
            var start = try await watermarks(for: partition).low
            // The brokers' time index skips what is older (a cluster without one answers nothing: read all).
            if let since, let found = try? await offsets([partition], atOrAfter: since)[partition] ?? nil { start = found }
            for record in try await read(partition, from: start, timeout: timeout) {
                if let since, let written = record.timestampMilliseconds, Double(written) / 1000 < since.timeIntervalSince1970 { continue }
                records.append(record)
            }
        }
        return records
    }

    /// The number of partitions of `topic` (from the brokers' metadata).
    public func partitionCount(of topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Int {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.partitionCount(of: topic, timeoutMilliseconds: ms)
        }
    }

    public func watermarks(for partition: TopicPartition, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Watermarks {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.watermarks(partition, timeoutMilliseconds: ms)
        }
    }
}
