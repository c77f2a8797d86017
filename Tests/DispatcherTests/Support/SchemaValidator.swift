import Foundation

/// A JSON Schema (draft 2020-12) validator for the keywords the schemas in schema/ use, and no
/// others: a schema with a keyword it does not know (or a `$ref` it cannot resolve) is refused when
/// loaded, so no schema can lean on a check that silently never runs. Instances are what
/// `JSONSerialization` makes of the bytes (numbers and booleans both arrive as `NSNumber`).
struct SchemaValidator {
    /// Why a schema cannot be checked here.
    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    /// The keywords that are checked; the annotations check nothing and are skipped on purpose.
    static let keywords: Set<String> = [
        "type", "const", "enum", "properties", "required", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "if", "then",
        "else", "$ref", "minLength", "maxLength", "pattern", "format", "minimum",
    ]
    static let annotations: Set<String> = ["$schema", "$id", "$comment", "$defs", "title", "description", "default"]

    let root: [String: Any]

    init(_ root: [String: Any]) throws {
        self.root = root
        try vet(root, at: "#")
    }

    /// Every way `instance` breaks the schema, each as `path: problem`; empty when it validates.
    func errors(_ instance: Any) -> [String] { errors(instance, against: root, at: "$") }

    /// `errors(_:)` of the JSON in `bytes`; bytes that are not JSON match no schema.
    func errors(json bytes: [UInt8]) -> [String] {
        let instance = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        return instance.map { errors($0) } ?? ["$: not JSON"]
    }

    /// Refuses unknown keywords, formats other than date-time, bad patterns and dangling references.
    private func vet(_ schema: Any, at path: String) throws {
        if schema is NSNumber { return }  // true or false
        guard let schema = schema as? [String: Any] else { throw Unsupported(description: "\(path): a schema is an object or a boolean") }
        for (keyword, argument) in schema {
            guard Self.keywords.contains(keyword) || Self.annotations.contains(keyword) else {
                throw Unsupported(description: "\(path): unsupported keyword \(keyword)")
            }
            switch keyword {
            case "properties", "$defs":
                for (name, sub) in argument as? [String: Any] ?? [:] { try vet(sub, at: "\(path)/\(keyword)/\(name)") }
            case "allOf", "anyOf", "oneOf":
                for (index, sub) in (argument as? [Any] ?? []).enumerated() { try vet(sub, at: "\(path)/\(keyword)/\(index)") }
            case "additionalProperties", "items", "if", "then", "else":
                try vet(argument, at: "\(path)/\(keyword)")
            case "$ref":
                guard let ref = argument as? String, resolve(ref) != nil else {
                    throw Unsupported(description: "\(path): unresolved $ref \(argument)")
                }
            case "format":
                guard argument as? String == "date-time" else { throw Unsupported(description: "\(path): format \(argument)") }
            case "pattern":
                guard let pattern = argument as? String, (try? NSRegularExpression(pattern: pattern)) != nil else {
                    throw Unsupported(description: "\(path): pattern \(argument)")
                }
            default: break
            }
        }
    }

    /// Only local definitions: `#/$defs/<name>`.
    private func resolve(_ ref: String) -> Any? {
        let prefix = "#/$defs/"
        guard ref.hasPrefix(prefix) else { return nil }
        return (root["$defs"] as? [String: Any])?[String(ref.dropFirst(prefix.count))]
    }

    private func errors(_ value: Any, against schema: Any, at path: String) -> [String] {
        var errors: [String] = []
        check(value, against: schema, at: path, into: &errors)
        return errors
    }

    private func check(_ value: Any, against schema: Any, at path: String, into errors: inout [String]) {
        if let flag = schema as? NSNumber {
            if !flag.boolValue { errors.append("\(path): not allowed here") }
            return
        }
        guard let schema = schema as? [String: Any] else {
            errors.append("\(path): not a schema")
            return
        }
        let object = value as? [String: Any]
        let text = value as? String
        for (keyword, argument) in schema.sorted(by: { $0.key < $1.key }) {
            switch keyword {
            case "type":
                let allowed = argument as? [String] ?? [argument as? String ?? "?"]
                let actual = Self.jsonType(value)
                if !allowed.contains(actual) && !(actual == "integer" && allowed.contains("number")) {  // an integer is a number
                    errors.append("\(path): \(actual), expected \(allowed.joined(separator: " or "))")
                }
            case "const":
                if !Self.equal(value, argument) { errors.append("\(path): \(Self.jsonType(value)) \(value) is not \(argument)") }
            case "enum":
                if !(argument as? [Any] ?? []).contains(where: { Self.equal(value, $0) }) { errors.append("\(path): \(value) not in enum") }
            case "properties":
                for (name, sub) in argument as? [String: Any] ?? [:] {
                    if let member = object?[name] { check(member, against: sub, at: "\(path).\(name)", into: &errors) }
                }
            case "required":
                guard let object else { continue }
                for name in argument as? [String] ?? [] where object[name] == nil { errors.append("\(path): missing required \(name)") }
            case "additionalProperties":
                let declared = schema["properties"] as? [String: Any] ?? [:]
                for (name, member) in object ?? [:] where declared[name] == nil {
                    check(member, against: argument, at: "\(path).\(name)", into: &errors)
                }
            case "items":
                for (index, element) in (value as? [Any] ?? []).enumerated() {
                    check(element, against: argument, at: "\(path)[\(index)]", into: &errors)
                }
            case "allOf":
                for sub in argument as? [Any] ?? [] { check(value, against: sub, at: path, into: &errors) }
            case "anyOf", "oneOf":
                let failures = (argument as? [Any] ?? []).map { self.errors(value, against: $0, at: path) }
                let matched = failures.filter(\.isEmpty).count
                if keyword == "anyOf" ? matched == 0 : matched != 1 {
                    errors.append("\(path): \(matched) branches of \(keyword) match (\(failures.joined().joined(separator: "; ")))")
                }
            case "if":
                let branch = self.errors(value, against: argument, at: path).isEmpty ? "then" : "else"
                if let sub = schema[branch] { check(value, against: sub, at: path, into: &errors) }
            case "$ref":
                if let ref = argument as? String, let sub = resolve(ref) { check(value, against: sub, at: path, into: &errors) }
            case "minLength", "maxLength":
                // JSON Schema counts characters as Unicode code points; wxpush counts UTF-8 bytes.
                guard let text, let limit = (argument as? NSNumber)?.intValue else { continue }
                let length = text.unicodeScalars.count
                if keyword == "minLength" ? length < limit : length > limit {
                    errors.append("\(path): \(length) characters, \(keyword) \(limit)")
                }
            case "pattern":
                guard let text, let pattern = argument as? String else { continue }
                let match = (try? NSRegularExpression(pattern: pattern))?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
                if match == nil { errors.append("\(path): \(text) does not match \(pattern)") }
            case "format":
                if let text, !Self.isDateTime(text) { errors.append("\(path): \(text) is not an RFC 3339 date-time") }
            case "minimum":
                if Self.isNumber(Self.jsonType(value)), let number = value as? NSNumber, let minimum = argument as? NSNumber,
                    number.doubleValue < minimum.doubleValue
                {
                    errors.append("\(path): \(number) is below \(minimum)")
                }
            case "then", "else":
                continue  // applied by "if"
            case _ where Self.annotations.contains(keyword):
                continue
            default:
                errors.append("\(path): unsupported keyword \(keyword)")
            }
        }
    }

    /// The JSON type of a `JSONSerialization` value. Its booleans are `NSNumber`s whose `objCType` is "c" (a char), which no
    /// number gets; an integer is a number without a fractional part (so 1.0 is one, as the spec says).
    static func jsonType(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case is String: return "string"
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return "boolean" }
            return number.doubleValue.rounded() == number.doubleValue ? "integer" : "number"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        default: return "unknown"
        }
    }

    static func isNumber(_ type: String) -> Bool { type == "integer" || type == "number" }

    /// JSON equality of scalars (`const`, `enum`): same type, same value; 1 and 1.0 are equal numbers. The schemas
    /// compare no arrays or objects, so those are never equal (an error, not a silent pass).
    static func equal(_ a: Any, _ b: Any) -> Bool {
        let (typeA, typeB) = (jsonType(a), jsonType(b))
        if isNumber(typeA) && isNumber(typeB) { return (a as? NSNumber) == (b as? NSNumber) }
        guard typeA == typeB else { return false }
        switch typeA {
        case "null": return true
        case "string": return (a as? String) == (b as? String)
        case "boolean": return (a as? NSNumber)?.boolValue == (b as? NSNumber)?.boolValue
        default: return false
        }
    }

    /// RFC 3339's grammar (`T`, then `Z` or `±hh:mm`), and a date Foundation's ISO 8601 parser takes (no month 13). The
    /// grammar comes first because the parser alone also takes `+0800` and trailing text.
    static func isDateTime(_ text: String) -> Bool {
        let grammar = #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#
        guard text.range(of: grammar, options: .regularExpression) != nil else { return false }
        return (try? Date.ISO8601FormatStyle(includingFractionalSeconds: text.contains(".")).parse(text)) != nil
    }
}
