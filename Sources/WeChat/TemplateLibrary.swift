import JSON

/// An account's templates as WeChat lists them: the official account's template-message
/// library (`template/get_all_private_template`) or its subscribe-message library
/// (`wxaapi/newtmpl/gettemplate`, for mini programs and official accounts alike). A template's
/// keywords are the `{{name.DATA}}` placeholders of its content, in order.
public struct TemplateLibrary: Sendable, Equatable {
    /// Which library a message kind's templates live in.
    public enum Family: String, Sendable, CaseIterable {
        case template
        case subscribe

        public var path: String {
            switch self {
            case .template: "/cgi-bin/template/get_all_private_template"
            case .subscribe: "/wxaapi/newtmpl/gettemplate"
            }
        }
    }

    public struct Template: Sendable, Equatable {
        public let id: String
        public let title: String
        public let keywords: [String]

        public init(id: String, title: String, keywords: [String]) {
            self.id = id
            self.title = title
            self.keywords = keywords
        }
    }

    public let family: Family
    public let templates: [String: Template]

    public init(family: Family, templates: [Template]) {
        self.family = family
        self.templates = Dictionary(templates.map { ($0.id, $0) }) { first, _ in first }
    }

    /// The placeholders of a template's content: `{{thing1.DATA}}` gives `thing1`. Spaces inside
    /// the braces are tolerated (WeChat's own example has `{ {result.DATA} }`).
    public static func keywords(in content: String) -> [String] {
        let compact = content.filter { $0 != " " }
        var found: [String] = []
        var rest = compact[...]
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: ".DATA}}") else { break }
            let name = String(rest[..<close.lowerBound])
            if !name.isEmpty, !name.contains("{"), !found.contains(name) { found.append(name) }
            rest = rest[close.upperBound...]
        }
        return found
    }

    /// The library in a 200 answer's fields; nil when they are not one.
    static func parse(_ fields: [String: JSONValue], family: Family) -> TemplateLibrary? {
        let (listKey, idKey) = family == .template ? ("template_list", "template_id") : ("data", "priTmplId")
        guard case .array(let items)? = fields[listKey] else { return nil }
        let templates = items.compactMap { item -> Template? in
            guard case .object(let entry) = item, let id = entry[idKey]?.string else { return nil }
            return Template(id: id, title: entry["title"]?.string ?? "", keywords: keywords(in: entry["content"]?.string ?? ""))
        }
        return TemplateLibrary(family: family, templates: templates)
    }
}

extension MessageKind {
    /// Template messages are listed in the template library; both subscribe kinds in the subscribe one.
    public var templateFamily: TemplateLibrary.Family { self == .template ? .template : .subscribe }
}
