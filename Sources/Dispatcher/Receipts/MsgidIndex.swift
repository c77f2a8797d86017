import DequeModule
import Synchronization
import Waiting

/// WeChat msgid → the request that got it, for the sends of every instance (fed from the msgids
/// topic by `MsgidIndexFeed`), so a receipt reaching any instance names its request id. Bounded:
/// beyond `capacity` entries or `maxBytes` of them the oldest go (receipts come seconds to minutes
/// after the send).
public final class MsgidIndex: Sendable {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var to: String?
        public var app: String?

        public init(id: String, to: String?, app: String?) {
            self.id = id
            self.to = to
            self.app = app
        }
    }

    private struct State {
        var entries: [Int64: Entry] = [:]
        var order: Deque<Int64> = []
        var bytes = 0
        /// Receipts waiting for their msgid to arrive.
        var waiters: [Int64: [Wakeup]] = [:]
        /// Receipts published here or by any instance (their markers on the msgids topic), newest kept.
        var receipts = RecentKeys(capacity: 100_000)
    }
    private let state = Mutex(State())
    public let capacity: Int
    public let maxBytes: Int

    public init(capacity: Int = 500_000, maxBytes: Int = 128 << 20) {
        self.capacity = max(1, capacity)
        self.maxBytes = maxBytes
    }

    /// What an entry holds, roughly: its strings and the dictionary's and the queue's share.
    static func size(_ entry: Entry) -> Int { 64 + entry.id.utf8.count + (entry.to?.utf8.count ?? 0) + (entry.app?.utf8.count ?? 0) }

    public var count: Int { state.withLock { $0.entries.count } }

    public func insert(msgid: Int64, _ entry: Entry) {
        let woken = state.withLock { state -> [Wakeup] in
            if let replaced = state.entries.updateValue(entry, forKey: msgid) {
                state.bytes -= Self.size(replaced)
            } else {
                state.order.append(msgid)
            }
            state.bytes += Self.size(entry)
            while state.order.count > capacity || state.bytes > maxBytes, let oldest = state.order.popFirst() {
                state.bytes -= state.entries.removeValue(forKey: oldest).map(Self.size) ?? 0
            }
            return state.waiters.removeValue(forKey: msgid) ?? []
        }
        for wakeup in woken { wakeup.signal() }
    }

    public func lookup(_ msgid: Int64) -> Entry? { state.withLock { $0.entries[msgid] } }

    /// Some instance published the receipt with this key (FromUserName + CreateTime + MsgID).
    public func receiptPublished(_ key: String) { _ = claimReceipt(key) }

    /// Claims the receipt with this key for publishing here; false if it was published (or is
    /// being published) already.
    public func claimReceipt(_ key: String) -> Bool { state.withLock { $0.receipts.insert(key) } }

    /// The claimed receipt was not published after all: a repeat may try again.
    public func releaseReceipt(_ key: String) { state.withLock { $0.receipts.remove(key) } }

    /// The entry, waiting at most `timeout` for it to arrive (the send's outcome may still be in
    /// an open transaction on another instance).
    public func lookup(_ msgid: Int64, waitingAtMost timeout: Duration) async -> Entry? {
        let wakeup = Wakeup()
        let found = state.withLock { state -> Entry? in
            if let entry = state.entries[msgid] { return entry }
            state.waiters[msgid, default: []].append(wakeup)
            return nil
        }
        if let found { return found }
        await wakeup.wait(until: .now + timeout)
        return state.withLock { state in
            state.waiters[msgid]?.removeAll { $0 === wakeup }
            if state.waiters[msgid]?.isEmpty == true { state.waiters[msgid] = nil }
            return state.entries[msgid]
        }
    }
}
