import Logging

/// An idempotent producer (`acks=all`): `send` returns when the brokers have acknowledged the record.
public final class KafkaProducer: Sendable {
    private let client: RDKafkaClient

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wxpush.kafka.producer")) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .producer, properties: configuration.producerProperties(), logger: logger,
            configure: RDKafkaClient.enableDeliveryReports
        )
        client.startPollThread()
    }

    /// Produces a record and waits for its delivery report. A full local queue is waited out, not thrown.
    @discardableResult
    public func send(_ record: KafkaRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        while true {
            let result: Result<KafkaDeliveryReport, KafkaError> = await withCheckedContinuation { continuation in
                do throws(KafkaError) {
                    try client.produce(record, callback: KafkaDeliveryHandler { continuation.resume(returning: $0) })
                } catch {
                    // Not enqueued: the callback was released unused, so this is the only resume.
                    continuation.resume(returning: .failure(error))
                }
            }
            if case .failure(let error) = result, error.code == .queueFull, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(2))
                continue
            }
            return try result.get()
        }
    }

    /// Enqueues a record without waiting; the handler gets its delivery report once, on the poll thread.
    /// Throws `queueFull` when the local queue (`queue.buffering.max.messages`) is full.
    public func enqueue(_ record: KafkaRecord, handler: KafkaDeliveryHandler) throws(KafkaError) {
        try client.produce(record, callback: handler)
    }

    /// Like `enqueue`, but waits for room in a full local queue instead of throwing `queueFull`.
    public func enqueueWhenRoom(_ record: KafkaRecord, handler: KafkaDeliveryHandler) async throws(KafkaError) {
        while true {
            do throws(KafkaError) {
                return try client.produce(record, callback: handler)
            } catch {
                if error.code != .queueFull || Task.isCancelled { throw error }
            }
            try? await Task.sleep(for: .microseconds(500))
        }
    }

    /// Waits until every enqueued record has its delivery report.
    public func flush(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        let milliseconds = Int32(clamping: timeout.milliseconds)
        try await client.blocking { [client] () throws(KafkaError) in try client.flush(timeoutMilliseconds: milliseconds) }
    }

    /// Records still waiting for a delivery report.
    public var outstanding: Int { client.outstanding }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }
}
