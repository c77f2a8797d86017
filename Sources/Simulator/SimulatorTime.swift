import Foundation
import Synchronization
import Waiting

/// The simulator's clock: real time plus whatever a test moved it forward by (`advance(by:)`), so
/// token lifetimes and overlaps, de-duplication windows and quota days are tested without sleeping.
/// Only its verdicts move; injected latency and hangs still take real time.
public final class SimulatorTime: Sendable {
    private let offset = Mutex(Duration.zero)

    public init() {}

    public var now: ContinuousClock.Instant { ContinuousClock.now + offset.withLock { $0 } }

    /// The wall clock, moved by the same amount (quota days, receipts' CreateTime).
    public var date: Date { Date().addingTimeInterval(offset.withLock { $0 }.seconds) }

    public func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
    }
}
