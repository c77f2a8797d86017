import Mustache

/// A compiled Mustache template rendered as plain text (no HTML escaping), with the variables it
/// needs outside sections, so a missing one is an error instead of an empty string.
struct TemplateText: Sendable {
    let source: String
    let template: MustacheTemplate
    let requiredVariables: [String]

    init(_ source: String) throws {
        self.source = source
        template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + source)
        requiredVariables = Self.topLevelVariables(in: source)
    }

    /// The first required variable that `data` lacks (or holds null).
    func missingVariable(in data: JSONValue) -> String? {
        requiredVariables.first { path in
            switch data.value(at: path) {
            case nil, .null?: return true
            default: return false
            }
        }
    }

    func render(_ context: Any) -> String { template.render(context) }

    /// Variable tags outside any section; inside a section names resolve against the section's item.
    static func topLevelVariables(in source: String) -> [String] {
        var variables: [String] = []
        var depth = 0
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.range(of: "}}") else { break }
            var tag = afterOpen[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = afterOpen[close.upperBound...]
            if rest.hasPrefix("}") { rest = rest.dropFirst() }
            guard let sigil = tag.first else { continue }
            switch sigil {
            case "#", "^": depth += 1
            case "/": depth = max(0, depth - 1)
            case "!", ">", "%", "=": continue
            default:
                if sigil == "{" || sigil == "&" { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
                if depth == 0 && tag != "." && !tag.isEmpty { variables.append(tag) }
            }
        }
        return variables
    }
}
