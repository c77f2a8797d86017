import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Synchronization
import WeChat

/// Where and how the simulator reports deliveries, as WeChat does: a signed (optionally
/// encrypted) TEMPLATESENDJOBFINISH POSTed to the account's callback URL `delay` after each
/// successful send, with the given shares of `user_blocked` and `system_failed`.
public struct ReceiptCallbacks: Sendable {
    /// The callback URL, e.g. http://127.0.0.1:8080/wechat/callback/default.
    public var url: String
    public var token: String
    /// Set: safe mode (AES), sealed for the sending appid.
    public var encodingAESKey: String?
    public var delay: Duration
    public var blockedFraction: Double
    public var systemFailedFraction: Double

    public init(
        url: String, token: String, encodingAESKey: String? = nil, delay: Duration = .milliseconds(200), blockedFraction: Double = 0,
        systemFailedFraction: Double = 0
    ) {
        self.url = url
        self.token = token
        self.encodingAESKey = encodingAESKey
        self.delay = delay
        self.blockedFraction = blockedFraction
        self.systemFailedFraction = systemFailedFraction
    }
}

/// Sends the receipts the simulator owes, each after its delay, retrying like WeChat does (three
/// more tries, 5 s apart) when the callback does not answer 200 `success`.
struct ReceiptSender: Sendable {
    struct Pending: Sendable {
        var receipt: DeliveryReceipt
        var appID: String
        var callbacks: ReceiptCallbacks
    }

    let logger: Logger
    private let queue: AsyncStream<Pending>
    private let input: AsyncStream<Pending>.Continuation
    let counts = Counts()

    final class Counts: Sendable {
        let answered = Atomic<Int>(0)
        let unanswered = Atomic<Int>(0)
    }

    init(logger: Logger) {
        self.logger = logger
        (queue, input) = AsyncStream.makeStream(of: Pending.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    func enqueue(_ pending: Pending) { input.yield(pending) }

    /// Until cancelled: each receipt in its own child task.
    func run() async {
        await withDiscardingTaskGroup { group in
            for await pending in queue {
                group.addTask { await deliver(pending) }
            }
        }
    }

    private func deliver(_ pending: Pending) async {
        do { try await Task.sleep(for: pending.callbacks.delay) } catch { return }
        let cipher = pending.callbacks.encodingAESKey.flatMap { try? CallbackCipher(encodingAESKey: $0, appID: pending.appID) }
        let authenticator = CallbackAuthenticator(token: pending.callbacks.token, cipher: cipher)
        for attempt in 0..<4 {
            if attempt > 0 {
                do { try await Task.sleep(for: .seconds(5)) } catch { return }
            }
            let (query, body) = authenticator.seal(pending.receipt.templateFinishedMessage)
            var request = HTTPClientRequest(url: pending.callbacks.url + "?" + Self.encode(query))
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "text/xml")
            request.body = .bytes(ByteBuffer(string: body))
            if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)), response.status == .ok,
                let answer = try? await response.body.collect(upTo: 1024), String(buffer: answer) == "success"
            {
                counts.answered.add(1, ordering: .relaxed)
                return
            }
        }
        counts.unanswered.add(1, ordering: .relaxed)
        logger.warning("receipt callback unanswered after 4 tries", metadata: ["msgid": "\(pending.receipt.msgid)"])
    }

    private static func encode(_ query: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return query.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
    }
}
