import Logging
import Synchronization

/// At most one warning per key and interval; the next one says how many were held back. For
/// what strangers can trigger at will (refused callbacks), so they cannot flood the log.
final class WarningThrottle: Sendable {
    private let interval: Duration
    private let last = Mutex<[String: (at: ContinuousClock.Instant, held: Int)]>([:])

    init(interval: Duration) { self.interval = interval }

    /// Logs `message` (given the held-back note, empty when none) unless `key` logged within the interval.
    func warn(_ key: String, _ logger: Logger, _ message: (String) -> String) {
        let now = ContinuousClock.now
        let held: Int? = last.withLock { last in
            if let entry = last[key], now - entry.at < interval {
                last[key]!.held += 1
                return nil
            }
            // Keys come from configured accounts only; the map cannot grow past them.
            defer { last[key] = (now, 0) }
            return last[key]?.held ?? 0
        }
        guard let held else { return }
        logger.warning("\(message(held > 0 ? " (and \(held) more in the last \(interval))" : ""))")
    }
}
