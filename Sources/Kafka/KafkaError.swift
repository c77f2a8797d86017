/// The one error type of the Kafka module: a librdkafka error code, its message, and what to do with it.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An opaque librdkafka error code (`rd_kafka_resp_err_t`); compare with the constants below.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let noError = Code(rawValue: 0)
        public static let badMessage = Code(rawValue: -199)
        public static let destroyed = Code(rawValue: -197)
        public static let failed = Code(rawValue: -196)
        public static let transport = Code(rawValue: -195)
        public static let messageTimedOut = Code(rawValue: -192)
        public static let unknownPartition = Code(rawValue: -190)
        public static let unknownTopic = Code(rawValue: -188)
        public static let allBrokersDown = Code(rawValue: -187)
        public static let invalidArgument = Code(rawValue: -186)
        public static let timedOut = Code(rawValue: -185)
        public static let queueFull = Code(rawValue: -184)
        public static let state = Code(rawValue: -172)
        public static let unsupportedFeature = Code(rawValue: -165)
        public static let purgedFromQueue = Code(rawValue: -152)
        public static let purgedInFlight = Code(rawValue: -151)
        public static let fatal = Code(rawValue: -150)
        /// Not a librdkafka code: the waiting task was cancelled.
        public static let cancelled = Code(rawValue: -100_000)
        public static let unknownTopicOrPartition = Code(rawValue: 3)
        public static let messageTooLarge = Code(rawValue: 10)
        public static let notLeaderForPartition = Code(rawValue: 6)
        public static let requestTimedOut = Code(rawValue: 7)
        public static let notEnoughReplicas = Code(rawValue: 19)
        public static let topicAuthorizationFailed = Code(rawValue: 29)
        public static let topicAlreadyExists = Code(rawValue: 36)
        public static let rebalanceInProgress = Code(rawValue: 27)
        public static let illegalGeneration = Code(rawValue: 22)

        public var description: String { RDKafkaErrors.name(of: self) }
    }

    public let code: Code
    public let message: String
    /// The operation may succeed if it is tried again.
    public let isRetriable: Bool
    /// The client instance is unusable and must be recreated.
    public let isFatal: Bool
    /// A transactional producer must abort the current transaction before it can go on.
    public let requiresAbort: Bool

    public init(code: Code, message: String, isRetriable: Bool = false, isFatal: Bool = false, requiresAbort: Bool = false) {
        self.code = code
        self.message = message
        self.isRetriable = isRetriable
        self.isFatal = isFatal
        self.requiresAbort = requiresAbort
    }

    public var description: String { "\(code): \(message)" }

    /// The waiting task was cancelled; the operation's result is unknown.
    public static let cancelled = KafkaError(code: .cancelled, message: "cancelled", isRetriable: true)

    /// A configuration property librdkafka refused; names every refused property.
    static func invalidConfiguration(_ problems: [String]) -> KafkaError {
        KafkaError(code: .invalidArgument, message: "invalid Kafka configuration: " + problems.joined(separator: "; "))
    }
}
