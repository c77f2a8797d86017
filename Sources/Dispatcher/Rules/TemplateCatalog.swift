import Foundation
import Synchronization
import WeChat

/// Every account's template libraries as last read (`TemplateRefresh`), and the templates WeChat
/// refused since (40037): a request for a template known to be missing ends `rejected`
/// (`template_missing`) without a WeChat call, instead of one failed call per request.
///
/// `strict` trusts the libraries: a template not listed is missing. `warn` only logs what the
/// libraries show (for accounts whose category templates WeChat does not list); WeChat's 40037
/// still stops the calls until the next refresh. `off` reads no library.
public final class TemplateCatalog: Sendable {
    public enum Mode: String, Sendable, CaseIterable { case strict, warn, off }

    struct Key: Hashable {
        var account: String
        var family: TemplateLibrary.Family
    }

    private struct State {
        var libraries: [Key: (ids: Set<String>, at: Date)] = [:]
        /// Template ids WeChat answered 40037 for, with when; cleared at the next refresh.
        var refused: [Key: [String: Date]] = [:]
        /// When each library was last read (or its read failed).
        var readAt: [Key: Date] = [:]
    }

    public let mode: Mode
    private let state = Mutex(State())

    public init(mode: Mode) { self.mode = mode }

    /// A fresh read of an account's library; WeChat's refusals start over with it. An empty list
    /// (a glitch, or an account whose templates WeChat does not list) is not trusted to reject.
    public func update(_ library: TemplateLibrary, account: String, at date: Date) {
        let key = Key(account: account, family: library.family)
        state.withLock { state in
            state.libraries[key] = library.templates.isEmpty ? nil : (Set(library.templates.keys), date)
            state.refused[key] = nil
            state.readAt[key] = date
        }
    }

    /// The library could not be read: WeChat's refusals are asked again all the same (a
    /// template re-created meanwhile must not stay refused until a restart).
    public func readFailed(_ family: TemplateLibrary.Family, account: String, at date: Date = Date()) {
        let key = Key(account: account, family: family)
        state.withLock { state in
            state.refused[key] = nil
            state.readAt[key] = date
        }
    }

    /// WeChat answered 40037 (invalid template_id) to a send that started at `date`; an answer to
    /// a send older than the last read is not remembered (the read may list it again).
    public func refused(_ templateID: String, kind: MessageKind, account: String, at date: Date) {
        let key = Key(account: account, family: kind.templateFamily)
        state.withLock { state in
            guard state.readAt[key].map({ $0 <= date }) ?? true else { return }
            state.refused[key, default: [:]][templateID] = date
        }
    }

    /// Why a request for this template would fail at WeChat, or nil when it may be sent.
    public func missing(_ templateID: String, kind: MessageKind, account: String) -> String? {
        let key = Key(account: account, family: kind.templateFamily)
        return state.withLock { state in
            if let at = state.refused[key]?[templateID] {
                return
                    "WeChat answered 40037 (invalid template_id) for \(templateID) at \(Timestamp.format(at)); asked again at the next refresh"
            }
            guard mode == .strict, let library = state.libraries[key], !library.ids.contains(templateID) else { return nil }
            return "\(templateID) is not in account \(account)'s \(key.family.rawValue) library (read at \(Timestamp.format(library.at)))"
        }
    }
}
