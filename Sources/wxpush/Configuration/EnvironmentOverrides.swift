import Yams

/// Any configuration key from the environment: `WXPUSH_` and the key's path in upper case, `__`
/// between levels (`WXPUSH_DISPATCHER__IN_FLIGHT=128`, `WXPUSH_HTTP__ADMIN_PORT=9090`). A value
/// is read as YAML (a number, a duration, `{records: 4096}`). Applied to the file's YAML before
/// it is decoded, so a mistyped variable is reported as the unknown key it names.
enum EnvironmentOverrides {
    struct Override {
        var variable: String
        var path: [String]
        var value: String
    }

    /// The `WXPUSH_<section>__…` variables naming a section of the file, in name order. Others
    /// are not overrides: the single-level `WXPUSH_KAFKA_BROKERS` and friends are read where their
    /// setting is, and `WXPUSH_SECRET_MY__APP` is the AppSecret of an account named `my__app`.
    static func overrides(in environment: [String: String]) -> [Override] {
        let sections = Set(ConfigurationFile.CodingKeys.allCases.map(\.stringValue))
        return environment.compactMap { name, value in
            guard name.hasPrefix("WXPUSH_"), name.contains("__") else { return nil }
            let path = name.dropFirst("WXPUSH_".count).components(separatedBy: "__").map { $0.lowercased() }
            guard let section = path.first, sections.contains(section), !path.contains("") else { return nil }
            return Override(variable: name, path: path, value: value)
        }.sorted { $0.variable < $1.variable }
    }

    /// Secrets are taken as written: read as YAML, `abc #1` would lose its `#1`.
    static func isSecret(_ path: [String]) -> Bool {
        path.last.map { key in ["secret", "token", "password", "key"].contains { key.contains($0) } } ?? false
    }

    /// `text` with the overrides applied; unchanged without any (or when it is no YAML: the
    /// decoder then says where).
    static func apply(_ environment: [String: String], to text: String, _ problems: inout [String]) -> String {
        let overrides = overrides(in: environment)
        guard !overrides.isEmpty, let composed = try? Yams.compose(yaml: text) else { return text }
        var root = composed ?? Node.mapping(.init([]))
        for override in overrides {
            let literal = Node.scalar(.init(override.value, .init(.str), .doubleQuoted))
            let value = Self.isSecret(override.path) ? literal : ((try? Yams.compose(yaml: override.value)) ?? nil) ?? literal
            if !set(&root, override.path[...], to: value) {
                problems.append(
                    "\(override.variable): \(override.path.joined(separator: ".")) goes inside a value that is not a mapping; check the name"
                )
            }
        }
        return (try? Yams.serialize(node: root)) ?? text
    }

    private static func set(_ node: inout Node, _ path: ArraySlice<String>, to value: Node) -> Bool {
        guard let key = path.first else {
            node = value
            return true
        }
        guard var mapping = node.mapping else { return false }
        var child = mapping[key] ?? Node.mapping(.init([]))
        guard set(&child, path.dropFirst(), to: value) else { return false }
        mapping[key] = child
        node = .mapping(mapping)
        return true
    }
}

/// A Kafka property's value read from elsewhere, so credentials stay out of the file:
/// `${env:NAME}` (an environment variable) or `${file:/path}` (a file's content, one trailing
/// newlines dropped; a mounted secret). Values are never logged.
enum SecretReference {
    static func resolve(_ value: String, field: String, environment: [String: String], _ problems: inout [String]) -> String {
        guard value.hasPrefix("${"), value.hasSuffix("}") else { return value }
        let reference = value.dropFirst(2).dropLast()
        if reference.hasPrefix("env:") {
            let name = String(reference.dropFirst(4))
            guard let found = environment[name] else {
                problems.append("\(field): \(value) names the environment variable \(name), which is not set")
                return ""
            }
            return found
        }
        if reference.hasPrefix("file:") {
            let path = String(reference.dropFirst(5))
            guard let content = try? String(contentsOfFile: path, encoding: .utf8) else {
                problems.append("\(field): \(value) names a file that cannot be read")
                return ""
            }
            var trimmed = Substring(content)
            while trimmed.last?.isNewline == true { trimmed = trimmed.dropLast() }  // "\r\n" is one Character
            return String(trimmed)
        }
        // Not echoed: it might be a literal secret that merely looks like a reference.
        problems.append("\(field): written like a reference (${…}) but names neither env: nor file:; write ${env:NAME} or ${file:/path}")
        return ""
    }
}
