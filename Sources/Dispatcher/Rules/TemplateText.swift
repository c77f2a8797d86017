import JSON
import Mustache

/// A compiled Mustache template rendered as plain text (no HTML escaping), with the variables it
/// needs outside sections, so a missing one is an error instead of an empty string.
///
/// Most templates are text around plain variables (`{{order.id}}`); those are rendered straight
/// from the event's JSON. Sections and the rest go through swift-mustache.
struct TemplateText: Sendable {
    let source: String
    let template: MustacheTemplate
    let requiredVariables: [String]
    private let requiredPaths: [[String]]
    private let plainParts: [Part]?

    private enum Part: Sendable {
        case text(String)
        case variable(path: [String])
    }

    init(_ source: String) throws {
        self.source = source
        template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
        let tags = Self.tags(in: source)
        requiredVariables = Self.topLevelVariables(in: tags)
        requiredPaths = requiredVariables.map(Self.steps)
        plainParts = Self.plainParts(of: source, tags: tags)
    }

    /// The first required variable that `data` lacks (or holds null).
    func missingVariable(in data: JSONValue) -> String? {
        zip(requiredVariables, requiredPaths).first { _, path in
            switch data.value(at: path) {
            case nil, .null?: return true
            default: return false
            }
        }?.0
    }

    /// Renders against an event's `data` object.
    func render(_ data: JSONValue) -> String {
        if let plainParts, let text = Self.renderPlain(plainParts, data: data) { return text }
        return template.render(data.mustacheContext)
    }

    /// Nil when a variable holds a list or object: Mustache decides how those render.
    private static func renderPlain(_ parts: [Part], data: JSONValue) -> String? {
        var text = ""
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .variable(let path):
                switch data.value(at: path) {
                case nil, .null?: break
                case .string(let value)?: text += value
                case .number(let literal)?: text += literal
                case .bool(let flag)?: text += flag ? "true" : "false"
                case .array?, .object?: return nil
                }
            }
        }
        return text
    }

    private static func steps(_ name: String) -> [String] {
        name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }

    private struct Tag {
        var sigil: Character
        var name: String
        var range: Range<String.Index>
    }

    private static func tags(in source: String) -> [Tag] {
        var tags: [Tag] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else { break }
            var name = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = afterOpen[close.upperBound...]
            if name.hasPrefix("{") && rest.hasPrefix("}") { rest = rest.dropFirst() }
            guard let sigil = name.first else { continue }
            if "#^/!>%={&".contains(sigil) { name = String(name.dropFirst()).trimmingCharacters(in: .whitespaces) }
            tags.append(Tag(sigil: sigil, name: name, range: open.lowerBound..<rest.startIndex))
        }
        return tags
    }

    /// Variable tags outside any section; inside a section names resolve against the section's item.
    private static func topLevelVariables(in tags: [Tag]) -> [String] {
        var variables: [String] = []
        var depth = 0
        for tag in tags {
            switch tag.sigil {
            case "#", "^": depth += 1
            case "/": depth = max(0, depth - 1)
            case "!", ">", "%", "=": continue
            default: if depth == 0 && tag.name != "." && !tag.name.isEmpty { variables.append(tag.name) }
            }
        }
        return variables
    }

    /// Text and variables only, or nil when the template needs Mustache.
    private static func plainParts(of source: String, tags: [Tag]) -> [Part]? {
        var parts: [Part] = []
        var cursor = source.startIndex
        for tag in tags {
            guard !"#^/!>%=".contains(tag.sigil), tag.name != ".", !tag.name.isEmpty else { return nil }
            if cursor < tag.range.lowerBound { parts.append(.text(String(source[cursor..<tag.range.lowerBound]))) }
            parts.append(.variable(path: steps(tag.name)))
            cursor = tag.range.upperBound
        }
        if cursor < source.endIndex { parts.append(.text(String(source[cursor...]))) }
        return parts
    }
}

extension JSONValue {
    /// The value as Mustache renders it: dictionaries, arrays, strings; numbers as written.
    var mustacheContext: Any {
        switch self {
        case .null: return ""
        case .bool(let value): return value
        case .number(let literal): return literal
        case .string(let value): return value
        case .array(let items): return items.map(\.mustacheContext)
        case .object(let fields): return fields.mapValues(\.mustacheContext)
        }
    }
}
