import WeChat

/// The rules against an account's template libraries, as WeChat lists them: each rule's template
/// exists, every keyword it needs is rendered, none is unknown, and a fixed value of a typed
/// keyword (`thing1`, `time2`…) is within its limit. `check-config --online` reports these as
/// problems; `run` logs them at start and at each refresh.
public enum TemplateCheck {
    /// An old-style template message's `first` and `remark`: WeChat stopped showing them
    /// (2023-05), so a rule may leave them out.
    static let optionalKeywords: Set<String> = ["first", "remark"]

    /// Every problem of `rules` against `libraries` (a family missing: it could not be read, and
    /// its rules are not checked).
    public static func problems(
        rules: RuleBook, libraries: [TemplateLibrary.Family: TemplateLibrary], account: String
    ) -> [String] {
        var problems: [String] = []
        for (type, rule) in rules.rules.sorted(by: { $0.key < $1.key }) {
            let family = rule.kind.templateFamily
            guard let library = libraries[family] else { continue }
            guard let template = library.templates[rule.templateID] else {
                problems.append(
                    "rules.\(type).template_id: \(rule.templateID) is not in account \(account)'s \(family.rawValue) library (\(library.templates.count) templates); copy the id from the console, or the template was deleted"
                )
                continue
            }
            let named = "\(template.id) (\"\(template.title)\")"
            for keyword in template.keywords where rule.data[keyword] == nil {
                guard family == .subscribe || !optionalKeywords.contains(keyword) else { continue }
                problems.append("rules.\(type).data: keyword \(keyword) of template \(named) is not rendered; add data.\(keyword)")
            }
            for key in rule.data.keys.sorted() where !template.keywords.contains(key) {
                problems.append(
                    "rules.\(type).data.\(key): template \(named) has no keyword \(key); it has \(template.keywords.joined(separator: ", "))"
                )
            }
            // A fixed value (no variable in it) is checked now; a rendered one at each render.
            for (key, field) in rule.data.sorted(by: { $0.key < $1.key })
            where template.keywords.contains(key) && !field.value.contains("{{") {
                if let violation = FieldLimits.violation(key: key, value: field.value) {
                    problems.append("rules.\(type).data.\(key): \(violation)")
                }
            }
        }
        return problems
    }
}
