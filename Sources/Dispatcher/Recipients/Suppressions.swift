import Foundation
import Synchronization
import WeChat

/// Every instance's view of the recipients topic: who is suppressed, for what, since when. A
/// request to a suppressed recipient ends `rejected` (`suppressed`) without a WeChat call.
/// Bounded by `capacity` entries (about 150 bytes each); past it the oldest are forgotten and
/// counted, and such a user is sent to again until WeChat says so once more.
public final class Suppressions: Sendable {
    struct Key: Hashable {
        var app: String
        var openid: String
        var scope: RecipientRecord.Scope
    }

    private struct State {
        var entries: [Key: RecipientRecord] = [:]
        var order: [Key] = []
        var forgotten = 0
    }

    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = max(1, capacity) }

    public func apply(_ record: RecipientRecord) {
        let key = Key(app: record.app, openid: record.openid, scope: record.scope)
        state.withLock { state in
            switch record.status {
            case .lifted:
                state.entries[key] = nil
            case .suppressed:
                if state.entries.updateValue(record, forKey: key) == nil { state.order.append(key) }
            }
            // Lifted keys leave `order` lazily; compact it when it is mostly stale.
            if state.order.count > 2 * max(state.entries.count, 1024) { state.order = state.order.filter { state.entries[$0] != nil } }
            while state.entries.count > capacity, !state.order.isEmpty {
                let oldest = state.order.removeFirst()
                if state.entries.removeValue(forKey: oldest) != nil { state.forgotten += 1 }
            }
        }
    }

    /// The suppression a message of `kind` with `templateID` to this recipient falls under, if any.
    public func suppression(app: String, openid: String, kind: MessageKind, templateID: String) -> RecipientRecord? {
        let scopes = RecipientRecord.scopes(kind: kind, templateID: templateID)
        return state.withLock { state in
            for scope in scopes {
                if let record = state.entries[Key(app: app, openid: openid, scope: scope)] { return record }
            }
            return nil
        }
    }

    public var count: Int { state.withLock { $0.entries.count } }
    public var forgotten: Int { state.withLock { $0.forgotten } }
}
