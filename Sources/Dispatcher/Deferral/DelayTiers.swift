/// The delay topics a long-deferred request waits in: one topic per tier (`wxpush.delay.5s`,
/// `wxpush.delay.30s`, …), each holding records for one fixed time. A record's due time in a
/// tier is when it was put there plus the tier, so each partition's due times rise with its
/// offsets, and the relay only ever waits on a partition's first record: however many wait, the
/// memory held is Kafka's bounded prefetch, not a record each. A request waiting longer than a
/// tier hops through the longest tier that fits until what is left is below the shortest, then
/// returns to its requests topic, where it waits out the rest in memory (seconds at most).
public struct DelayTiers: Sendable, Equatable {
    /// The topics' common prefix (`kafka.topics.delays`); empty: no delay topics, every deferred
    /// request waits in its partition's buffer.
    public let prefix: String
    /// Ascending, whole seconds.
    public let tiers: [Duration]

    public static let defaultTiers: [Duration] = [
        .seconds(5), .seconds(30), .seconds(180), .seconds(900), .seconds(3600), .seconds(14_400),
    ]

    public init(prefix: String, tiers: [Duration] = DelayTiers.defaultTiers) {
        self.prefix = prefix
        self.tiers = Array(Set(tiers)).sorted()
    }

    public var isEnabled: Bool { !prefix.isEmpty && !tiers.isEmpty }

    public var topics: [String] { isEnabled ? tiers.map(topic(for:)) : [] }

    public func topic(for tier: Duration) -> String { "\(prefix).\(Self.label(tier))" }

    /// The tier a wait of `wait` goes into: the longest one it covers; nil below the shortest
    /// (such a wait is held in memory).
    public func tier(forWait wait: Duration) -> Duration? {
        guard isEnabled else { return nil }
        return tiers.last { $0 <= wait }
    }

    /// The tier whose topic this is.
    public func tier(ofTopic topic: String) -> Duration? { tiers.first { self.topic(for: $0) == topic } }

    /// `5s`, `3m`, `4h`: the shortest exact spelling.
    static func label(_ tier: Duration) -> String {
        let seconds = tier.components.seconds
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
