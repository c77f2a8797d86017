import Kafka
import Logging
import Synchronization

/// The task of one assigned partition: records with different keys in flight concurrently (up to
/// the window), records with the same key strictly in offset order; offsets stored only below the
/// lowest record whose outcome is not yet acknowledged. When the partition's messages end (revoke,
/// shutdown), it finishes in-flight work within the drain timeout and commits before returning.
struct PartitionWorker: Sendable {
    let partition: KafkaPartition
    let consumer: KafkaConsumer
    let processor: EventProcessor
    let publisher: OutcomePublisher
    let settings: DispatcherSettings
    let stats: DispatchStats
    let logger: Logger

    func run() async {
        let topicPartition = partition.topicPartition
        let progress = SharedOffsetTracker()
        let window = InFlightWindow(limit: settings.inFlightPerPartition)
        var order = KeyedOrder()
        await withDiscardingTaskGroup { group in
            var messages = partition.messages.makeAsyncIterator()
            while true {
                await window.acquire()
                guard let message = await messages.next() else {
                    window.release()
                    break
                }
                progress.tracker.withLock { $0.received(message.offset) }
                let turn = order.enqueue(key: message.key)
                group.addTask {
                    defer {
                        turn.own.finish()
                        window.release()
                    }
                    await turn.previous?.wait()
                    guard let outcome = await processor.process(message), await publish(outcome, message) else { return }
                    // Stored under the tracker's lock: two completions racing outside it could store
                    // the lower offset last, and librdkafka commits the stored offset again on close.
                    progress.tracker.withLock { tracker in
                        guard let next = tracker.completed(message.offset) else { return }
                        do { try consumer.storeOffset(next, for: topicPartition) } catch {
                            logger.warning("could not store offset \(next) of \(topicPartition): \(error)")
                        }
                    }
                }
            }
            if await !drained(window) {
                logger.warning("drain timeout: cancelling in-flight sends of \(topicPartition); they will be redelivered")
                group.cancelAll()
            }
        }
        await commit(progress.tracker.withLock { $0.committable }, topicPartition)
    }

    private func publish(_ outcome: Outcome, _ message: KafkaMessage) async -> Bool {
        do {
            try await publisher.publish(outcome, original: message)
            stats.record(outcome)
            return true
        } catch {
            // The offset stays uncommitted: the record is redelivered after a restart or rebalance.
            logger.error("outcome of \(outcome.id) not acknowledged: \(error)")
            stats.recordPublishFailure()
            return false
        }
    }

    /// Waits until nothing is in flight, or the drain timeout passes.
    private func drained(_ window: InFlightWindow) async -> Bool {
        let deadline = ContinuousClock.now + settings.drainTimeout
        while !window.isIdle {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }

    private func commit(_ offset: Int64?, _ topicPartition: TopicPartition) async {
        guard let offset else { return }
        do {
            try await consumer.commit([topicPartition: offset], timeout: .seconds(5))
            logger.info("committed \(topicPartition) at \(offset)")
        } catch {
            logger.warning("commit of \(topicPartition) at \(offset) failed: \(error)")
        }
    }
}

/// The partition's offset tracker, shared by its in-flight records.
final class SharedOffsetTracker: Sendable {
    let tracker = Mutex(OffsetTracker())
}
