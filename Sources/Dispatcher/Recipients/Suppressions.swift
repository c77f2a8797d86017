import DequeModule
import Foundation
import Synchronization
import WeChat

/// Every instance's view of the recipients topic: who is suppressed, for what, since when. A
/// request to a suppressed recipient ends `rejected` (`suppressed`) without a WeChat call.
/// Per key the newest word wins by its time, not by arrival: a 43004 whose transaction commits
/// after the user followed again, or a callback WeChat repeats late, does not undo a later one.
/// Bounded by `capacity` keys (about 450 bytes each: a million measured 434 MiB); past it the oldest are forgotten and
/// counted, and such a user is sent to again until WeChat says so once more.
public final class Suppressions: Sendable {
    struct Key: Hashable {
        var app: String
        var openid: String
        var scope: RecipientRecord.Scope
    }

    private struct State {
        /// Each key's newest record (lifted ones too, so an older suppression cannot come back)
        /// and the number of its place in `order`.
        var entries: [Key: (record: RecipientRecord, place: Int)] = [:]
        /// Keys in the order they were last written; a place no longer the key's is stale.
        var order: Deque<(key: Key, place: Int)> = []
        var places = 0
        var forgotten = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = max(1, capacity) }

    public func apply(_ record: RecipientRecord) {
        let key = Key(app: record.app, openid: record.openid, scope: record.scope)
        state.withLock { state in
            if let known = state.entries[key], known.record.at > record.at { return }
            state.places += 1
            state.entries[key] = (record, state.places)
            state.order.append((key, state.places))
            if state.order.count > 2 * max(state.entries.count, 1024) {
                let entries = state.entries
                state.order = Deque(state.order.filter { entries[$0.key]?.place == $0.place })
            }
            while state.entries.count > capacity, let oldest = state.order.popFirst() {
                guard state.entries[oldest.key]?.place == oldest.place else { continue }
                state.entries[oldest.key] = nil
                state.forgotten += 1
            }
        }
    }

    /// The suppression a message of `kind` with `templateID` to this recipient falls under, if any.
    public func suppression(app: String, openid: String, kind: MessageKind, templateID: String) -> RecipientRecord? {
        let scopes = RecipientRecord.scopes(kind: kind, templateID: templateID)
        return state.withLock { state in
            for scope in scopes {
                if let known = state.entries[Key(app: app, openid: openid, scope: scope)], known.record.status == .suppressed {
                    return known.record
                }
            }
            return nil
        }
    }

    /// Recipients suppressed now (for some scope).
    public var count: Int { state.withLock { $0.entries.values.count { $0.record.status == .suppressed } } }
    public var forgotten: Int { state.withLock { $0.forgotten } }
}
