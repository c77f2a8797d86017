/// Any JSON value, as found in an event's `data`.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The string, when this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// Compact text for messages.
    var text: String {
        switch self {
        case .string(let text): return "\"\(text)\""
        case .number(let number): return number.rounded() == number ? String(Int64(number)) : String(number)
        case .bool(let flag): return String(flag)
        case .null: return "null"
        case .array: return "[…]"
        case .object: return "{…}"
        }
    }

    /// The value at a dotted path (`order.id`), or nil when any step is missing.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for step in path.split(separator: ".") {
            switch current {
            case .object(let fields)?: current = fields[String(step)]
            case .array(let items)?: current = Int(step).flatMap { items.indices.contains($0) ? items[$0] : nil }
            default: return nil
            }
        }
        return current
    }

    /// The value as Mustache renders it: dictionaries, arrays, strings; whole numbers without ".0".
    var mustacheContext: Any {
        switch self {
        case .null: return ""
        case .bool(let value): return value
        case .number(let value): return value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): return value
        case .array(let items): return items.map(\.mustacheContext)
        case .object(let fields): return fields.mapValues(\.mustacheContext)
        }
    }
}
