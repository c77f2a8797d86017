import Kafka
import Logging
import Synchronization

/// What stops the whole dispatcher from inside: a fatal producer error (idempotence broken, so no
/// outcome can be written any more). The first one is logged, consumption stops (every partition
/// drains), and the service then throws so the process exits non-zero for a restart.
///
/// It also sees each partition's sends: one that has had sends in flight for long with none
/// ending is stalled (`/healthz` then fails, so an orchestrator restarts the process).
public final class DispatcherHealth: Sendable {
    private let error = Mutex<KafkaError?>(nil)
    private let activity = Mutex<[TopicPartition: Activity]>([:])

    struct Activity {
        var sending: Int
        /// When a send last ended, or sending started from none.
        var lastProgress: ContinuousClock.Instant
    }
    private let stopConsuming: @Sendable () -> Void
    private let logger: Logger

    init(logger: Logger, stopConsuming: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.stopConsuming = stopConsuming
    }

    public var fatalError: KafkaError? { error.withLock { $0 } }

    /// A partition's sends in flight now, and whether one ended since the last report.
    func sends(of partition: TopicPartition, inFlight: Int, oneEnded: Bool) {
        activity.withLock { all in
            var entry = all[partition] ?? Activity(sending: 0, lastProgress: .now)
            if oneEnded || entry.sending == 0 { entry.lastProgress = .now }
            entry.sending = inFlight
            all[partition] = entry
        }
    }

    /// The partition is no longer this worker's.
    func ended(_ partition: TopicPartition) { _ = activity.withLock { $0.removeValue(forKey: partition) } }

    /// Partitions with sends in flight and none ended for longer than `limit`, with how long.
    public func stalled(after limit: Duration) -> [(partition: TopicPartition, for: Duration)] {
        let now = ContinuousClock.now
        return activity.withLock { all in
            all.compactMap { partition, entry in
                entry.sending > 0 && now - entry.lastProgress > limit ? (partition, now - entry.lastProgress) : nil
            }
        }
    }

    func fatal(_ failure: KafkaError) {
        let first = error.withLock { stored in
            defer { if stored == nil { stored = failure } }
            return stored == nil
        }
        guard first else { return }
        logger.critical(
            "the outcome producer failed fatally (\(failure)); no outcome can be written: stopping consumption, draining, exiting non-zero so a restart gets a new producer"
        )
        stopConsuming()
    }
}
