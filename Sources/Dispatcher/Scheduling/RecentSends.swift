import DequeModule
import Foundation

/// The request ids one partition sent within `window` (from its sent log, then its own sends):
/// a later record with the same id is answered with the first send's msgid instead of reaching
/// its user again, whatever record carries it. Bounded by `maxBytes`, counting 180 bytes per id
/// plus the id (a million 28-byte ids measured 206 bytes each in the dictionary and the queue): past it the oldest ids are forgotten early and counted in `forgotten`.
public struct RecentSends: Sendable {
    public struct Send: Sendable, Equatable {
        public var msgid: Int64
        public var at: Date
    }

    public let window: TimeInterval
    public let maxBytes: Int
    private var sends: [String: Send] = [:]
    /// Ids in the order they were sent (an id sent again keeps its first place: its first send is
    /// what it is answered with).
    private var order: Deque<(id: String, at: Date)> = []
    private var bytes = 0
    public private(set) var forgotten = 0

    public init(window: TimeInterval, maxBytes: Int = 16 << 20) {
        self.window = window
        self.maxBytes = max(1024, maxBytes)
    }

    static func cost(_ id: String) -> Int { id.utf8.count + 180 }

    /// The first send of `id` within the window before `now`, if any.
    public mutating func first(_ id: String, now: Date) -> Send? {
        expire(now: now)
        return sends[id]
    }

    /// `id` was sent (accepted by WeChat) at `at`.
    public mutating func sent(_ id: String, msgid: Int64, at: Date) {
        guard window > 0, sends[id] == nil else { return }
        sends[id] = Send(msgid: msgid, at: at)
        order.append((id, at))
        bytes += Self.cost(id)
        while bytes > maxBytes, let oldest = order.popFirst() {
            sends[oldest.id] = nil
            bytes -= Self.cost(oldest.id)
            forgotten += 1
        }
    }

    public var count: Int { sends.count }

    private mutating func expire(now: Date) {
        let cutoff = now.addingTimeInterval(-window)
        while let oldest = order.first, oldest.at < cutoff {
            order.removeFirst()
            sends[oldest.id] = nil
            bytes -= Self.cost(oldest.id)
        }
    }
}
