/// A template in the simulator's library: listed by `template/get_all_private_template` (template
/// messages) or `wxaapi/newtmpl/gettemplate` (subscribe messages), and the only ids a send may use
/// once a library is configured. Its keywords are the `{{name.DATA}}` of its content.
public struct SimulatedTemplate: Sendable, Equatable {
    public var id: String
    public var title: String
    public var content: String
    /// A subscribe template (both subscribe kinds) rather than a template message's.
    public var subscribe: Bool

    public init(id: String, title: String, content: String, subscribe: Bool = false) {
        self.id = id
        self.title = title
        self.content = content
        self.subscribe = subscribe
    }

    /// The placeholders of the content, read the simple way: between `{{` and `.DATA}}`.
    var keywords: [String] {
        content.components(separatedBy: "{{").dropFirst().compactMap { part in
            part.range(of: ".DATA}}").map { String(part[..<$0.lowerBound]) }
        }
    }
}
