import Dispatcher
import Foundation
import Yams

/// Reads and compiles the rules file, adding every problem to the list.
enum RulesLoader {
    static func load(path: String, _ problems: inout [String]) -> (RulesFile?, RuleBook?) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            problems.append("rules: cannot read \(path); set `rules:` to the rules file, relative to the config file")
            return (nil, nil)
        }
        // Before decoding: a typo (`pagepth`) also explains the decoding error it causes.
        problems += UnknownKeys.problems(in: text, schema: UnknownKeys.rulesSchema)
        let file: RulesFile
        do {
            file = try YAMLDecoder().decode(RulesFile.self, from: text)
        } catch {
            problems.append("rules (\(path)): \(YAMLProblem(error))")
            return (nil, nil)
        }
        for (type, rule) in file.rules.sorted(by: { $0.key < $1.key }) where rule.templateID.isEmpty {
            problems.append("rules.\(type).template_id: empty; copy the template id from the WeChat console")
        }
        do {
            return (file, try RuleBook(file))
        } catch {
            problems += error.problems
            return (file, nil)
        }
    }
}
