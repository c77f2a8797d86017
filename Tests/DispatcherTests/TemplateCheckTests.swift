import Foundation
import Testing
import WeChat

@testable import Dispatcher

@Suite("Templates checked before sending: rules against the libraries, and the catalog that stops calls for missing ones")
struct TemplateCheckTests {
    static let library = TemplateLibrary(
        family: .template,
        templates: [
            .init(id: "SHIPPED", title: "发货通知", keywords: ["first", "thing1", "character_string2", "remark"]),
            .init(id: "OLD", title: "订单", keywords: ["first", "keyword1", "keyword2", "remark"]),
        ])

    static func rules(_ rules: [String: Rule]) throws -> RuleBook { try RuleBook(RulesFile(rules: rules)) }

    @Test(
        "a missing template, a keyword not rendered, an unknown keyword and a fixed typed value over its limit are each named; first and remark may be left out"
    )
    func problems() throws {
        let book = try Self.rules([
            "ok": Rule(kind: .template, templateID: "OLD", data: ["keyword1": .init(value: "{{a}}"), "keyword2": .init(value: "b")]),
            "gone": Rule(kind: .template, templateID: "DELETED", data: ["keyword1": .init(value: "x")]),
            "renamed": Rule(
                kind: .template, templateID: "SHIPPED",
                data: ["thing1": .init(value: "{{item}}"), "keyword9": .init(value: "{{x}}")]),
            "long": Rule(
                kind: .template, templateID: "SHIPPED",
                data: ["thing1": .init(value: String(repeating: "长", count: 25)), "character_string2": .init(value: "{{n}}")]),
            "mini": Rule(kind: .subscribe, templateID: "NOT-CHECKED", data: ["thing1": .init(value: "x")]),
        ])
        let problems = TemplateCheck.problems(rules: book, libraries: ["shop": [.template: Self.library]])
        #expect(problems.count == 4, "\(problems)")
        #expect(problems.contains { $0.hasPrefix("rules.gone.template_id: DELETED is not in the template library of account shop") })
        #expect(
            problems.contains {
                $0.hasPrefix("rules.renamed.data: keyword character_string2 of template SHIPPED (\"发货通知\") is not rendered")
            })
        #expect(problems.contains { $0.hasPrefix("rules.renamed.data.keyword9: template SHIPPED (\"发货通知\") has no keyword keyword9") })
        #expect(problems.contains { $0.hasPrefix("rules.long.data.thing1: thing1 is 25 characters, limit 20") })
        #expect(!problems.contains { $0.contains("rules.mini") }, "the subscribe library was not read: its rules are not checked")
    }

    @Test("a template found in any account's library is no problem; first and remark may be rendered for a template without them")
    func severalAccounts() throws {
        let book = try Self.rules([
            "other": Rule(kind: .template, templateID: "ONLY-B", data: ["first": .init(value: "hi"), "keyword1": .init(value: "{{a}}")])
        ])
        let b = TemplateLibrary(family: .template, templates: [.init(id: "ONLY-B", title: "b", keywords: ["keyword1"])])
        #expect(TemplateCheck.problems(rules: book, libraries: ["a": [.template: Self.library], "b": [.template: b]]).isEmpty)
        let missing = TemplateCheck.problems(rules: book, libraries: ["a": [.template: Self.library]])
        #expect(missing.count == 1 && missing[0].contains("ONLY-B is not in the template library of account a"), "\(missing)")
    }

    @Test("a typed keyword of a template message is checked at render (it was skipped before); an untyped one is sent as rendered")
    func typedTemplateFieldsAtRender() throws {
        let book = try Self.rules([
            "shipped": Rule(
                kind: .template, templateID: "SHIPPED",
                data: ["thing1": .init(value: "{{item}}", overflow: .reject), "keyword1": .init(value: "{{item}}")])
        ])
        let long = String(repeating: "长", count: 30)
        let event = RequestEvent(
            id: "e", type: "shipped", message: nil, app: "default", to: "o", data: .object(["item": .string(long)]), expiresAt: nil)
        guard case .failure(let rejection) = book.message(for: event) else { Issue.record("expected a rejection"); return }
        #expect(rejection.code == .fieldInvalid && rejection.detail.contains("thing1"))
        // An old template's `time` is free text, not a typed field.
        let legacy = try Self.rules(["old": Rule(kind: .template, templateID: "OLD", data: ["time": .init(value: "{{item}}")])])
        let old = RequestEvent(
            id: "e", type: "old", message: nil, app: "default", to: "o", data: .object(["item": .string("今天下午三点左右")]), expiresAt: nil)
        guard case .success = legacy.message(for: old) else { Issue.record("a legacy `time` keyword was checked as typed"); return }
    }

    @Test("strict: a template not listed is missing; warn: never from the library; WeChat's 40037 stops calls until the next read")
    func catalog() {
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let strict = TemplateCatalog(mode: .strict)
        #expect(strict.missing("DELETED", kind: .template, account: "shop") == nil, "nothing read yet: send")
        strict.update(Self.library, account: "shop", at: at)
        #expect(strict.missing("DELETED", kind: .template, account: "shop")?.contains("not in account shop's template library") == true)
        #expect(strict.missing("OLD", kind: .template, account: "shop") == nil)
        #expect(strict.missing("DELETED", kind: .subscribe, account: "shop") == nil, "the subscribe library was not read")
        #expect(strict.missing("DELETED", kind: .template, account: "other") == nil)

        let warn = TemplateCatalog(mode: .warn)
        warn.update(Self.library, account: "shop", at: at)
        #expect(warn.missing("DELETED", kind: .template, account: "shop") == nil)
        warn.refused("CATEGORY", kind: .template, account: "shop", at: at)
        #expect(warn.missing("CATEGORY", kind: .template, account: "shop")?.contains("40037") == true)
        warn.update(Self.library, account: "shop", at: at.addingTimeInterval(3600))
        #expect(warn.missing("CATEGORY", kind: .template, account: "shop") == nil, "asked again after the next read")
        warn.refused("CATEGORY", kind: .template, account: "shop", at: at.addingTimeInterval(1800))
        #expect(warn.missing("CATEGORY", kind: .template, account: "shop") == nil, "an answer to a send older than the read is not kept")

        let empty = TemplateCatalog(mode: .strict)
        empty.update(TemplateLibrary(family: .template, templates: []), account: "shop", at: at)
        #expect(empty.missing("OLD", kind: .template, account: "shop") == nil, "an empty list is not trusted to reject")
    }
}
