import Dispatcher
import Foundation
import Hummingbird
import Logging
import Metrics
import WeChat

/// `/wechat/callback/{account}`: WeChat's URL verification (GET) and its event pushes (POST).
/// Delivery receipts become `receipt` records on the results topic; WeChat gets `success` once
/// the record is acknowledged (milliseconds), or 503 so it calls again. Everything else pushed is
/// acknowledged and ignored.
struct CallbackEndpoint: Sendable {
    /// WeChat's pushes are a few KiB; anything larger is refused unread.
    static let maxBodyBytes = 64 * 1024

    let authenticators: [String: CallbackAuthenticator]
    let receipts: ReceiptPublisher
    let logger: Logger

    func verify(_ request: Request, account: String) -> Response {
        guard let authenticator = authenticators[account] else { return Self.count(account, "unknown_account", .notFound) }
        do {
            let echostr = try authenticator.verifyURL(Self.query(of: request))
            _ = Self.count(account, "verified", .ok)
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: echostr)))
        } catch {
            logger.warning("callback URL verification refused", metadata: ["account": "\(account)", "reason": "\(error)"])
            return Self.count(account, "refused", .unauthorized)
        }
    }

    func receive(_ request: Request, account: String) async -> Response {
        guard let authenticator = authenticators[account] else { return Self.count(account, "unknown_account", .notFound) }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maxBodyBytes) } catch {
            return Self.count(account, "too_large", .contentTooLarge)
        }
        let message: CallbackMessage
        do {
            message = try authenticator.open(Self.query(of: request), body: String(buffer: body))
        } catch {
            logger.warning("callback refused", metadata: ["account": "\(account)", "reason": "\(error)"])
            return Self.count(account, "refused", .unauthorized)
        }
        guard let receipt = DeliveryReceipt(message) else { return Self.success(account, "ignored") }
        switch await receipts.publish(receipt, account: account) {
        case .published(let id):
            Counter(label: "wxpush_receipts_total", dimensions: [("account", account), ("status", receipt.status.rawValue)]).increment()
            logger.debug("receipt", metadata: ["msgid": "\(receipt.msgid)", "status": "\(receipt.status.rawValue)", "id": "\(id ?? "-")"])
            return Self.success(account, "receipt")
        case .duplicate:
            return Self.success(account, "duplicate")
        case .failed:
            return Self.count(account, "unpublished", .serviceUnavailable)
        }
    }

    private static func success(_ account: String, _ result: String) -> Response {
        _ = count(account, result, .ok)
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "success")))
    }

    private static func count(_ account: String, _ result: String, _ status: HTTPResponse.Status) -> Response {
        Counter(label: "wxpush_callbacks_total", dimensions: [("account", account), ("result", result)]).increment()
        return Response(status: status)
    }

    private static func query(of request: Request) -> [String: String] {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters where query[String(key)] == nil { query[String(key)] = String(value) }
        return query
    }
}
