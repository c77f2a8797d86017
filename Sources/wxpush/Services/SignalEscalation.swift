import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import Waiting

/// Runs the service group with the shutdown signals wxpush promises: the first SIGTERM or SIGINT
/// starts a graceful shutdown (drain, publish, commit); a second one cancels in-flight work at once
/// (it is redelivered; `client_msg_id` protects users); if the process is still alive
/// `hardExitAfter` later, or on a third signal, it exits there and then.
enum SignalEscalation {
    struct SecondSignal: Error {}

    static func run(_ group: ServiceGroup, hardExitAfter: Duration = .seconds(5), logger: Logger) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var seen = 0
                for await signal in signals {
                    seen += 1
                    switch seen {
                    case 1:
                        logger.notice("\(signal): shutting down gracefully (draining); send it again to stop at once")
                        await group.triggerGracefulShutdown()
                    case 2:
                        logger.warning("second signal (\(signal)): cancelling in-flight work; it will be redelivered")
                        exit(afterWaiting: hardExitAfter, logger: logger)
                        throw SecondSignal()
                    default:
                        Foundation.exit(130)
                    }
                }
            }
            defer { tasks.cancelAll() }
            try await tasks.next()
        }
    }

    /// A last resort that no stuck call can hold up: a plain thread that ends the process.
    private static func exit(afterWaiting delay: Duration, logger: Logger) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: delay.seconds)
            logger.error("still running \(delay) after the second signal; exiting now")
            Foundation.exit(130)
        }
    }
}
