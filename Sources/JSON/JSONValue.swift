/// Any JSON value. Numbers keep the text they were written with, so a 19-digit order id
/// renders exactly as the producer wrote it instead of going through `Double`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal text, validated against RFC 8259's grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, when this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The fields, when this is an object.
    public var object: [String: JSONValue]? {
        if case .object(let fields) = self { return fields }
        return nil
    }

    /// The number as an integer, when it is one that fits.
    public var int64: Int64? {
        if case .number(let literal) = self { return Int64(literal) }
        return nil
    }

    /// The value at a dotted path (`order.id`, `items.0.name`), or nil when any step is missing.
    public func value(at path: some StringProtocol) -> JSONValue? {
        value(at: String(path).split(separator: ".", omittingEmptySubsequences: false).map(String.init))
    }

    /// The value at a path already split into steps (object keys or array indexes).
    public func value(at steps: [String]) -> JSONValue? {
        var current = self
        for step in steps {
            switch current {
            case .object(let fields):
                guard let next = fields[step] else { return nil }
                current = next
            case .array(let items):
                guard let index = Int(step), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Short text for error messages: scalars as written, containers elided.
    public var summary: String {
        switch self {
        case .string(let text): "\"\(text)\""
        case .number(let literal): literal
        case .bool(let flag): String(flag)
        case .null: "null"
        case .array: "[…]"
        case .object: "{…}"
        }
    }
}
