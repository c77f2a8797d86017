import Foundation
import Testing
import Yams

/// The files under deploy/: the Kubernetes manifests hold what each kind needs, the pod outlives
/// the drain, and the alerts and the dashboard name only metrics wxpush exports.
@Suite("deploy/: Kubernetes manifests, Prometheus alerts, Grafana dashboard")
struct DeployFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let kubernetes = root.appendingPathComponent("deploy/kubernetes")

    /// Paths (`/`-separated: keys such as `wxpush.yaml` hold dots) each kind must have, besides
    /// `apiVersion`, `kind` and `metadata/name`.
    static let required: [String: [String]] = [
        "ConfigMap": ["data/wxpush.yaml", "data/rules.yaml"],
        "Secret": ["stringData"],
        "StatefulSet": ["spec/serviceName", "spec/selector", "spec/template/spec/containers"],
        "Service": ["spec/ports"],
        "Ingress": ["spec/rules", "spec/tls"],
        "PodDisruptionBudget": ["spec/selector"],
        "ServiceMonitor": ["spec/endpoints"],
        "ScaledObject": ["spec/scaleTargetRef/name", "spec/triggers"],
        "TriggerAuthentication": ["spec/secretTargetRef"],
        "Kustomization": ["resources"],
    ]

    @Test("every manifest has apiVersion, kind, metadata.name and what its kind requires")
    func manifestFields() throws {
        let manifests = try Self.manifests()
        #expect(!manifests.isEmpty)
        for (file, object) in manifests {
            let kind = Self.value(object, "kind") as? String ?? "?"
            // A Kustomization is kustomize's file, not an object with a name.
            let named = kind == "Kustomization" ? [] : ["metadata/name"]
            #expect(Self.required[kind] != nil, "\(file): no checks written for kind \(kind)")
            for path in ["apiVersion", "kind"] + named + Self.required[kind, default: []] {
                #expect(Self.value(object, path) != nil, "\(file): \(kind) without \(path)")
            }
        }
    }

    @Test("the StatefulSet: images, /healthz and /readyz probes, a grace period above dispatcher.drain_timeout")
    func statefulSet() throws {
        let manifests = try Self.manifests()
        let set = try #require(Self.first("StatefulSet", in: manifests))
        let containers = try #require(Self.value(set, "spec/template/spec/containers") as? [Any])
        #expect(!containers.isEmpty)
        for container in containers { #expect(Self.value(container, "image") is String, "a container without an image") }
        #expect(Self.value(containers.first, "livenessProbe/httpGet/path") as? String == "/healthz")
        #expect(Self.value(containers.first, "readinessProbe/httpGet/path") as? String == "/readyz")

        let configText = try #require(Self.value(Self.first("ConfigMap", in: manifests), "data/wxpush.yaml") as? String)
        let drain = try Self.value(Yams.load(yaml: configText), "dispatcher/drain_timeout") as? String ?? "8s"
        let drainSeconds = try #require(Self.seconds(drain), "drain_timeout \(drain) is not a duration")
        let grace = try #require(Self.value(set, "spec/template/spec/terminationGracePeriodSeconds") as? Int)
        #expect(Double(grace) > drainSeconds, "terminationGracePeriodSeconds \(grace) must exceed drain_timeout \(drain)")
    }

    @Test("kustomization.yaml lists every manifest but the examples of secrets, and each file it lists exists")
    func kustomization() throws {
        let manifests = try Self.manifests()
        let listed = try #require(Self.value(Self.first("Kustomization", in: manifests), "resources") as? [String])
        let files = try Self.yamlFiles().filter { $0 != "kustomization.yaml" && !$0.hasSuffix(".example.yaml") }
        #expect(Set(listed) == Set(files))
    }

    @Test("alerts.yaml: groups with a name and rules, each with alert, expr, for, a severity and a summary")
    func alertRules() throws {
        let alerts = try Self.alerts()
        let groups = try #require(Self.value(alerts, "groups") as? [Any])
        #expect(!groups.isEmpty)
        for group in groups {
            let name = Self.value(group, "name") as? String
            #expect(name != nil, "a group without a name")
            let rules = Self.value(group, "rules") as? [Any] ?? []
            #expect(!rules.isEmpty, "group \(name ?? "?") has no rules")
            for rule in rules {
                let alert = Self.value(rule, "alert") as? String ?? "?"
                for path in ["alert", "expr", "for", "labels/severity", "annotations/summary"] {
                    #expect(Self.value(rule, path) is String, "\(name ?? "?")/\(alert): no \(path)")
                }
            }
        }
    }

    @Test("every metric the alerts and the dashboard name is a string literal in Sources/")
    func metricsExist() throws {
        let dashboardData = try Data(contentsOf: Self.root.appendingPathComponent("deploy/grafana/wxpush-dashboard.json"))
        let dashboard = try JSONSerialization.jsonObject(with: dashboardData)
        let expressions = try Self.strings(at: "expr", in: Self.alerts()) + Self.strings(at: "expr", in: dashboard)
        #expect(!expressions.isEmpty)
        let sources = try Self.sourceText()
        let names = Set(expressions.flatMap { $0.matches(of: /(wxpush|process)_[a-z_]+/).map { Self.baseName(String($0.output.0)) } })
        for name in names.sorted() {
            #expect(sources.contains("\"\(name)\""), "\(name) is named in deploy/ but nothing in Sources/ exports it")
        }
    }

    // MARK: - Helpers

    /// The value at a `/`-separated path in a parsed YAML or JSON tree.
    static func value(_ node: Any?, _ path: String) -> Any? {
        path.split(separator: "/").reduce(node) { node, key in (node as? [AnyHashable: Any])?[AnyHashable(String(key))] }
    }

    /// Every string under `key`, at any depth.
    static func strings(at key: String, in node: Any?) -> [String] {
        if let map = node as? [AnyHashable: Any] {
            let own = (map[AnyHashable(key)] as? String).map { [$0] } ?? []
            return own + map.values.flatMap { strings(at: key, in: $0) }
        }
        return (node as? [Any])?.flatMap { strings(at: key, in: $0) } ?? []
    }

    static func yamlFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: kubernetes.path).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    /// Every document of every deploy/kubernetes/*.yaml, with its file's name.
    static func manifests() throws -> [(file: String, object: Any)] {
        try yamlFiles().flatMap { file -> [(file: String, object: Any)] in
            var documents = try Yams.load_all(yaml: String(contentsOf: kubernetes.appendingPathComponent(file), encoding: .utf8))
            var objects: [(file: String, object: Any)] = []
            while let document = documents.next() { objects.append((file, document)) }
            if let error = documents.error { throw error }
            return objects
        }
    }

    static func first(_ kind: String, in manifests: [(file: String, object: Any)]) -> Any? {
        manifests.first { value($0.object, "kind") as? String == kind }?.object
    }

    static func alerts() throws -> Any? {
        try Yams.load(yaml: String(contentsOf: root.appendingPathComponent("deploy/prometheus/alerts.yaml"), encoding: .utf8))
    }

    /// All of Sources/**/*.swift as one text.
    static func sourceText() throws -> String {
        let sources = root.appendingPathComponent("Sources")
        return try FileManager.default.subpathsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
            .map { try String(contentsOf: sources.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
    }

    /// A histogram's series name without `_bucket`, `_count` or `_sum`.
    static func baseName(_ series: String) -> String {
        for suffix in ["_bucket", "_count", "_sum"] where series.hasSuffix(suffix) { return String(series.dropLast(suffix.count)) }
        return series
    }

    /// `8s`, `500ms`, `2m`, `1h` in seconds, as the configuration writes durations.
    static func seconds(_ text: String) -> Double? {
        for (suffix, unit) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * unit }
        }
        return nil
    }
}
