import Logging
import Synchronization

/// An idempotent producer (`acks=all`): `send` returns when the brokers have acknowledged the record.
public final class KafkaProducer: Sendable {
    private let client: RDKafkaClient

    public init(configuration: KafkaConfiguration, logger: Logger = Logger(label: "wxpush.kafka.producer")) throws(KafkaError) {
        client = try RDKafkaClient(
            role: .producer, properties: configuration.producerProperties(), logger: logger, pollsOnOwnThread: true,
            configure: RDKafkaClient.enableDeliveryReports
        )
    }

    /// Produces a record and waits for its delivery report. A full local queue is waited out, not
    /// thrown. Cancellation ends the wait at once with `cancelled`: the record may still be delivered
    /// (its report is then dropped), so a caller that cancels treats it as not acknowledged.
    @discardableResult
    public func send(_ record: KafkaRecord) async throws(KafkaError) -> KafkaDeliveryReport {
        while true {
            let waiter = DeliveryWaiter()
            let result: Result<KafkaDeliveryReport, KafkaError> = await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    waiter.install(continuation)
                    do throws(KafkaError) {
                        try client.produce(record, callback: KafkaDeliveryHandler { waiter.complete($0) })
                    } catch {
                        waiter.complete(.failure(error))
                    }
                }
            } onCancel: {
                waiter.complete(.failure(.cancelled))
            }
            if case .failure(let error) = result, error.code == .queueFull, !Task.isCancelled {
                // The local queue (`queue.buffering.max.messages`, a million by default) is full:
                // librdkafka offers no wake-up for room, so look again shortly.
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
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in try client.flush(timeoutMilliseconds: ms) }
    }

    /// A transactional producer (`transactional.id` set in the configuration): call `initTransactions`
    /// once, then produce only inside `beginTransaction` … `commitTransaction` / `abortTransaction`.
    public func initTransactions(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.initTransactions(timeoutMilliseconds: ms)
        }
    }

    public func beginTransaction() throws(KafkaError) { try client.beginTransaction() }

    /// Commits `offsets` for `consumer`'s group as part of the open transaction.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: CommitPoint], consumer: KafkaConsumer, timeout: Duration = .seconds(30)
    ) async throws(KafkaError) {
        try await client.blocking(timeout: timeout) { [client, consumer] (ms) throws(KafkaError) in
            try client.sendOffsetsToTransaction(offsets, consumer: consumer.client, timeoutMilliseconds: ms)
        }
    }

    /// Flushes the open transaction's records and commits it.
    public func commitTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.commitTransaction(timeoutMilliseconds: ms)
        }
    }

    public func abortTransaction(timeout: Duration = .seconds(30)) async throws(KafkaError) {
        try await client.blocking(timeout: timeout) { [client] (ms) throws(KafkaError) in
            try client.abortTransaction(timeoutMilliseconds: ms)
        }
    }

    /// Set once the producer hit a fatal error (idempotence broken): every later send fails, so the
    /// application must stop and restart.
    public var fatalError: KafkaError? { client.fatalError }

    /// Fails the producer fatally, as a broken idempotence would: for tests of what follows.
    public func triggerFatalErrorForTesting(_ reason: String = "injected by a test") {
        client.triggerFatalErrorForTesting(reason)
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

/// One delivery report or one cancellation, whichever comes first, resumes the waiting `send`.
private final class DeliveryWaiter: Sendable {
    private enum State {
        case waiting
        case installed(CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>)
        case completed(Result<KafkaDeliveryReport, KafkaError>)
        case resumed
    }
    private let state = Mutex(State.waiting)

    func install(_ continuation: CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>) {
        let early: Result<KafkaDeliveryReport, KafkaError>? = state.withLock { state in
            if case .completed(let result) = state {
                state = .resumed
                return result
            }
            state = .installed(continuation)
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func complete(_ result: Result<KafkaDeliveryReport, KafkaError>) {
        let continuation: CheckedContinuation<Result<KafkaDeliveryReport, KafkaError>, Never>? = state.withLock { state in
            switch state {
            case .waiting:
                state = .completed(result)
                return nil
            case .installed(let continuation):
                state = .resumed
                return continuation
            case .completed, .resumed:
                return nil
            }
        }
        continuation?.resume(returning: result)
    }
}
