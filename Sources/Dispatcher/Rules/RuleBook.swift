import Foundation
import WeChat

/// Every rule, compiled once at start: renders an event into the WeChat message it asks for.
public struct RuleBook: Sendable {
    private let compiled: [String: CompiledRule]

    /// Compiles every rule; throws one error listing every template that does not parse.
    public init(_ file: RulesFile) throws(RuleBookError) {
        var compiled: [String: CompiledRule] = [:]
        var problems: [String] = []
        for (type, rule) in file.rules.sorted(by: { $0.key < $1.key }) {
            do {
                compiled[type] = try CompiledRule(rule)
            } catch {
                problems.append("rules.\(type): \(error)")
            }
        }
        guard problems.isEmpty else { throw RuleBookError(problems: problems) }
        self.compiled = compiled
    }

    public var types: [String] { compiled.keys.sorted() }

    /// The rules as written, by event type.
    public var rules: [String: Rule] { compiled.mapValues(\.rule) }

    /// The per-recipient throttle of the rule for `type`, if it has one.
    public func throttle(for type: String?) -> ThrottleRule? { type.flatMap { compiled[$0]?.rule.throttle } }

    /// The quiet hours of the rule for `type`, if it has them.
    func quietHours(for type: String?) -> QuietSpan? { type.flatMap { compiled[$0]?.quiet } }

    /// The longest throttle window of any rule (0 without throttles): how far back the sent log
    /// is read to rebuild the counts after a rebalance.
    public var longestThrottleWindow: TimeInterval { compiled.values.compactMap { $0.rule.throttle?.window }.max() ?? 0 }

    /// The message for an event, or why it can never be sent; `truncated` hears each field cut.
    public func message(for event: RequestEvent, truncated: (String) -> Void = { _ in }) -> Result<OutgoingMessage, Rejection> {
        let clientMsgID = ClientMessageID.derive(fromEventID: event.id)
        if let raw = event.message {
            return .success(OutgoingMessage(raw: raw, to: event.to, clientMsgID: clientMsgID))
        }
        guard let type = event.type, let rule = compiled[type] else {
            return .failure(Rejection(.unknownType, "no rule for type \(event.type ?? "")"))
        }
        return rule.render(event, clientMsgID: clientMsgID, truncated: truncated).mapError {
            Rejection($0.code, "\($0.detail) (rule \(type))")
        }
    }
}

public struct RuleBookError: Error, Sendable, CustomStringConvertible {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// Why an event will never be sent; becomes the outcome's `reason_code` and `reason`.
public struct Rejection: Error, Sendable, Equatable {
    public let code: ReasonCode
    public let detail: String
    public init(_ code: ReasonCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }
    /// `code: detail`, the outcome's `reason`.
    public var reason: String { "\(code.rawValue): \(detail)" }
}

extension OutgoingMessage {
    init(raw: RawMessage, to: String, clientMsgID: String) {
        self.init(
            kind: raw.kind, toUser: to, templateID: raw.templateID, url: raw.url, miniProgram: raw.miniprogram,
            page: raw.page, miniProgramState: raw.miniprogramState, lang: raw.lang, clientMsgID: clientMsgID,
            data: raw.data.mapValues { FieldValue(value: $0.value, color: $0.color) }
        )
    }
}
