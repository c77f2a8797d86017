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
    /// Refused callbacks come from anyone: at most one warning per account every 10 s.
    let refusals = WarningThrottle(interval: .seconds(10))

    func verify(_ request: Request, account: String) -> Response {
        guard let authenticator = authenticators[account] else { return Self.count(Self.unknown, "unknown_account", .notFound) }
        do {
            let echostr = try authenticator.verifyURL(Self.query(of: request))
            _ = Self.count(account, "verified", .ok)
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: echostr)))
        } catch {
            refusals.warn(account, logger) { "callback URL verification refused: \(error)\($0)" }
            return Self.count(account, "refused", .unauthorized)
        }
    }

    func receive(_ request: Request, account: String) async -> Response {
        guard let authenticator = authenticators[account] else { return Self.count(Self.unknown, "unknown_account", .notFound) }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Self.maxBodyBytes) } catch {
            return Self.count(account, "too_large", .contentTooLarge)
        }
        let message: CallbackMessage
        do {
            message = try authenticator.open(Self.query(of: request), body: String(buffer: body))
        } catch {
            refusals.warn(account, logger) { "callback refused: \(error)\($0)" }
            return Self.count(account, "refused", .unauthorized)
        }
        let recipients = RecipientRecord.all(in: message, app: account)
        if !recipients.isEmpty {
            guard await self.receipts.publish(recipients) else { return Self.count(account, "unpublished", .serviceUnavailable) }
            for record in recipients {
                logger.info(
                    "recipient \(record.status.rawValue)", metadata: ["scope": "\(record.scope.text)", "source": "\(record.source)"])
            }
        }
        let receipts = DeliveryReceipt.all(in: message)
        guard !receipts.isEmpty else { return Self.success(account, recipients.isEmpty ? "ignored" : "recipient") }
        var duplicates = 0
        for receipt in receipts {
            switch await self.receipts.publish(receipt, account: account) {
            case .published(let id):
                Counter(label: "wxpush_receipts_total", dimensions: [("account", account), ("status", receipt.status.rawValue)])
                    .increment()
                logger.debug(
                    "receipt", metadata: ["msgid": "\(receipt.msgid)", "status": "\(receipt.status.rawValue)", "id": "\(id ?? "-")"])
            case .duplicate:
                duplicates += 1
            case .failed:
                // WeChat calls again; the receipts already published are answered as duplicates then.
                return Self.count(account, "unpublished", .serviceUnavailable)
            }
        }
        return Self.success(account, duplicates == receipts.count ? "duplicate" : "receipt")
    }

    /// The `account` label of paths naming no configured account: one series, whatever the path.
    static let unknown = "other"

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
