import Dispatcher
import Yams

/// Keys the configuration does not know, each named with the closest known one: a typo such as
/// `dispatcher.in_flght` would otherwise be ignored silently.
enum UnknownKeys {
    /// The keys allowed at one level of the file, and what is below each.
    indirect enum Schema: Sendable {
        /// Exactly these keys (a struct's CodingKeys).
        case keys([String: Schema])
        /// Any key (names chosen by the user, e.g. accounts), each with this below it.
        case named(Schema)
        /// Anything below (passed through, e.g. librdkafka properties).
        case free
        /// A sequence whose items are each this (a single scalar instead is fine too).
        case list(Schema)

        static func of<K: CodingKey & CaseIterable>(_ type: K.Type, _ children: [String: Schema] = [:]) -> Schema {
            .keys(Dictionary(uniqueKeysWithValues: K.allCases.map { ($0.stringValue, children[$0.stringValue] ?? .free) }))
        }
    }

    typealias File = ConfigurationFile
    static let schema = Schema.of(
        File.CodingKeys.self,
        [
            "kafka": .of(
                File.Kafka.CodingKeys.self,
                [
                    "topics": .of(File.Topics.CodingKeys.self, ["requests": .list(.of(File.RequestTopics.Entry.CodingKeys.self))]),
                    "producers": .keys(Dictionary(uniqueKeysWithValues: ProducerRole.allCases.map { ($0.rawValue, .free) })),
                ]),
            "wechat": .of(
                File.WeChat.CodingKeys.self,
                [
                    "accounts": .named(
                        .of(
                            File.Account.CodingKeys.self,
                            ["limits": .of(File.Limits.CodingKeys.self), "callback": .of(File.Callback.CodingKeys.self)])),
                    "templates": .of(File.Templates.CodingKeys.self),
                ]),
            "dispatcher": .of(
                File.Dispatcher.CodingKeys.self,
                ["buffer": .of(File.Buffer.CodingKeys.self), "retry": .of(File.Retry.CodingKeys.self)]),
            "http": .of(File.HTTP.CodingKeys.self),
            "logging": .of(File.Logging.CodingKeys.self),
        ])

    /// rules.yaml: `rules: { <type>: Rule }`.
    static let rulesSchema = Schema.keys([
        "rules": .named(
            .of(
                Rule.CodingKeys.self,
                [
                    "data": .named(.of(FieldTemplate.CodingKeys.self)), "throttle": .of(ThrottleRule.CodingKeys.self),
                    "miniprogram": .of(MiniProgramTemplate.CodingKeys.self), "quiet_hours": .of(QuietHours.CodingKeys.self),
                ]))
    ])

    static func problems(in text: String, schema: Schema = schema) -> [String] {
        guard let node = try? Yams.compose(yaml: text) else { return [] }
        var problems: [String] = []
        walk(node, schema, path: "", &problems)
        return problems
    }

    private static func walk(_ node: Node, _ schema: Schema, path: String, _ problems: inout [String]) {
        if case .list(let item) = schema {
            for (index, element) in (node.sequence.map(Array.init) ?? []).enumerated() {
                walk(element, item, path: "\(path)[\(index)]", &problems)
            }
            return
        }
        guard let mapping = node.mapping else { return }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            let field = path.isEmpty ? key : "\(path).\(key)"
            switch schema {
            case .free, .list:
                return
            case .named(let below):
                walk(value, below, path: field, &problems)
            case .keys(let known):
                if let below = known[key] {
                    walk(value, below, path: field, &problems)
                } else {
                    let hint =
                        closest(to: key, in: known.keys).map { "did you mean \($0)?" }
                        ?? "known here: \(known.keys.sorted().joined(separator: ", "))"
                    problems.append("\(field): unknown key; \(hint)")
                }
            }
        }
    }

    /// The known key within a small edit distance, if one is clearly closest.
    static func closest(to key: String, in known: some Collection<String>) -> String? {
        let scored = known.map { ($0, distance(Array(key), Array($0))) }.sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        guard let best = scored.first, best.1 <= max(2, key.count / 3) else { return nil }
        return best.0
    }

    /// Levenshtein distance.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
