import Foundation

/// One message the simulated user received.
public struct DeliveredMessage: Sendable, Codable, Equatable {
    public var openid: String
    public var clientMsgID: String
    public var templateID: String
    /// The `MessageKind` raw value: template, bizsend or subscribe.
    public var kind: String
    /// data key -> value (colours dropped).
    public var data: [String: String]
    public var msgid: Int64
    public var receivedAt: Date

    public init(
        openid: String,
        clientMsgID: String,
        templateID: String,
        kind: String,
        data: [String: String],
        msgid: Int64,
        receivedAt: Date
    ) {
        self.openid = openid
        self.clientMsgID = clientMsgID
        self.templateID = templateID
        self.kind = kind
        self.data = data
        self.msgid = msgid
        self.receivedAt = receivedAt
    }
}

/// What the simulator saw since start (or the last `resetStats`); served as JSON at GET /sim/stats.
public struct SimulatorStats: Sendable, Codable, Equatable {
    /// In arrival order, each delivered message once.
    public var messagesByOpenID: [String: [DeliveredMessage]]
    /// Deliveries of a (openid, client_msg_id) already delivered before: a real duplicate reached
    /// the user, which can only happen after the de-duplication window expired.
    public var duplicates: Int
    /// Sends answered from the de-duplication window instead of being delivered again.
    public var suppressedDuplicates: Int
    public var tokenFetches: Int
    public var sendRequests: Int
    public var delivered: Int
    /// errcode (or "http500") -> how many answers carried it.
    public var errorsByCode: [String: Int]
    /// The most send requests the simulator was answering at one time.
    public var maxConcurrentSends: Int

    public init(
        messagesByOpenID: [String: [DeliveredMessage]] = [:],
        duplicates: Int = 0,
        suppressedDuplicates: Int = 0,
        tokenFetches: Int = 0,
        sendRequests: Int = 0,
        delivered: Int = 0,
        errorsByCode: [String: Int] = [:],
        maxConcurrentSends: Int = 0
    ) {
        self.messagesByOpenID = messagesByOpenID
        self.duplicates = duplicates
        self.suppressedDuplicates = suppressedDuplicates
        self.tokenFetches = tokenFetches
        self.sendRequests = sendRequests
        self.delivered = delivered
        self.errorsByCode = errorsByCode
        self.maxConcurrentSends = maxConcurrentSends
    }
}
