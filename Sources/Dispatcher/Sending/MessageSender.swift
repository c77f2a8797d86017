import WeChat

/// What the event processor needs of WeChat: `WeChatClient` in production, over HTTP.
public protocol MessageSender: Sendable {
    func send(_ message: OutgoingMessage, account: String, trace: TraceHeader?) async -> SendResult
    func hasAccount(_ name: String) -> Bool
}

extension WeChatClient: MessageSender {}
