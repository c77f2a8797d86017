import Kafka
import Logging
import Synchronization

/// What stops the whole dispatcher from inside: a fatal producer error (idempotence broken, so no
/// outcome can be written any more). The first one is logged, consumption stops (every partition
/// drains), and the service then throws so the process exits non-zero for a restart.
public final class DispatcherHealth: Sendable {
    private let error = Mutex<KafkaError?>(nil)
    private let stopConsuming: @Sendable () -> Void
    private let logger: Logger

    init(logger: Logger, stopConsuming: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.stopConsuming = stopConsuming
    }

    public var fatalError: KafkaError? { error.withLock { $0 } }

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
