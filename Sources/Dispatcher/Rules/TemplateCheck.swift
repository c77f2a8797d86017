import WeChat

/// The rules against an account's template libraries, as WeChat lists them: each rule's template
/// exists, every keyword it needs is rendered, none is unknown, and a fixed value of a typed
/// keyword (`thing1`, `time2`…) is within its limit. `check-config --online` reports these as
/// problems; `run` logs them at start and at each refresh.
public enum TemplateCheck {
    /// An old-style template message's `first` and `remark`: WeChat stopped showing them
    /// (2023-05), so a rule may leave them out.
    static let optionalKeywords: Set<String> = ["first", "remark"]

    /// Every problem of `rules` against the accounts' `libraries` (account → family → library; a
    /// family not read is not checked). Rules are not tied to an account (`app` is per request),
    /// so a template is missing only when no account's library of its family lists it.
    public static func problems(rules: RuleBook, libraries: [String: [TemplateLibrary.Family: TemplateLibrary]]) -> [String] {
        var problems: [String] = []
        for (type, rule) in rules.rules.sorted(by: { $0.key < $1.key }) {
            let family = rule.kind.templateFamily
            let read = libraries.sorted { $0.key < $1.key }.compactMap { account, families in families[family].map { (account, $0) } }
            guard !read.isEmpty else { continue }
            guard let template = read.lazy.compactMap({ $0.1.templates[rule.templateID] }).first else {
                let accounts = read.map(\.0).joined(separator: ", ")
                problems.append(
                    "rules.\(type).template_id: \(rule.templateID) is not in the \(family.rawValue) library of account \(accounts); copy the id from the console, or the template was deleted"
                )
                continue
            }
            let named = "\(template.id) (\"\(template.title)\")"
            // Since 2023-05 WeChat no longer shows a template message's first and remark: a rule
            // may leave them out, or keep rendering them for a template that has none.
            let optional = family == .template ? optionalKeywords : []
            for keyword in template.keywords where rule.data[keyword] == nil && !optional.contains(keyword) {
                problems.append("rules.\(type).data: keyword \(keyword) of template \(named) is not rendered; add data.\(keyword)")
            }
            for key in rule.data.keys.sorted() where !template.keywords.contains(key) && !optional.contains(key) {
                problems.append(
                    "rules.\(type).data.\(key): template \(named) has no keyword \(key); it has \(template.keywords.joined(separator: ", "))"
                )
            }
            // A fixed value (no variable in it) is checked now; a rendered one at each render.
            for (key, field) in rule.data.sorted(by: { $0.key < $1.key })
            where template.keywords.contains(key) && !field.value.contains("{{") && CompiledRule.isTyped(key, kind: rule.kind) {
                if let violation = FieldLimits.violation(key: key, value: field.value) {
                    problems.append("rules.\(type).data.\(key): \(violation)")
                }
            }
        }
        return problems
    }
}
