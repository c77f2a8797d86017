import DequeModule
import Foundation
import Kafka
import Logging
import WeChat

/// Turns WeChat's delivery receipts into `receipt` records on the results topic, once each:
/// WeChat repeats a callback it got no answer to (same FromUserName + CreateTime + MsgID), so the
/// recent ones are remembered (bounded) in the `MsgidIndex`, which also learns, through a marker on
/// the msgids topic, those every other instance published (a repeat may reach another one behind
/// a load balancer). The request id comes from
/// the `MsgidIndex`, waiting briefly when the send's outcome is not in it yet. Records are keyed
/// by request id (beside the dispatch outcome) or, unknown, by msgid.
public final class ReceiptPublisher: Sendable {
    public enum Result: Sendable, Equatable {
        case published(id: String?)
        case duplicate
        /// Not acknowledged: answer WeChat with an error so it calls again.
        case failed(String)
    }

    private let producer: KafkaProducer
    private let resultsTopic: String
    private let index: MsgidIndex
    private let lookupWait: Duration
    /// Where the published-receipt markers go (the msgids topic); nil: this instance only.
    private let markersTopic: String?
    /// Where what a callback says about its sender goes (`RecipientRecord`); nil: nowhere.
    private let recipientsTopic: String?
    private let logger: Logger

    public init(
        producer: KafkaProducer, resultsTopic: String, index: MsgidIndex, markersTopic: String? = nil, recipientsTopic: String? = nil,
        lookupWait: Duration = .seconds(2), logger: Logger
    ) {
        self.recipientsTopic = recipientsTopic
        self.markersTopic = markersTopic
        self.producer = producer
        self.resultsTopic = resultsTopic
        self.index = index
        self.lookupWait = lookupWait
        self.logger = logger
    }

    public func publish(_ receipt: DeliveryReceipt, account: String, now: Date = Date()) async -> Result {
        let key = "\(receipt.openid)\u{0}\(receipt.createTime)\u{0}\(receipt.msgid)"
        guard index.claimReceipt(key) else { return .duplicate }
        let entry = await index.lookup(receipt.msgid, waitingAtMost: lookupWait)
        let record = ReceiptRecord(
            msgid: receipt.msgid, to: receipt.openid, app: entry?.app ?? account, status: receipt.status, id: entry?.id, receivedAt: now)
        do throws(KafkaError) {
            try await producer.send(
                KafkaRecord(topic: resultsTopic, key: Array((entry?.id ?? String(receipt.msgid)).utf8), value: record.json()))
            if let markersTopic {
                // Best effort: without it, a repeat reaching another instance is published twice.
                do throws(KafkaError) { try await producer.send(MsgidRecord.receiptMarker(topic: markersTopic, key: key)) } catch {
                    logger.debug("receipt marker not written", metadata: ["msgid": "\(receipt.msgid)", "error": "\(error)"])
                }
            }
            return .published(id: entry?.id)
        } catch {
            index.releaseReceipt(key)
            logger.warning(
                "receipt not acknowledged; WeChat will call again", metadata: ["msgid": "\(receipt.msgid)", "error": "\(error)"])
            return .failed("\(error)")
        }
    }
}

extension ReceiptPublisher {
    /// The callback's word on its sender (unfollowed, refused a template, came back) on the
    /// recipients topic; false when not acknowledged (WeChat then calls again).
    public func publish(_ records: [RecipientRecord]) async -> Bool {
        guard let recipientsTopic else { return true }
        for record in records {
            do throws(KafkaError) { _ = try await producer.send(record.record(topic: recipientsTopic)) } catch {
                logger.warning("recipient status not acknowledged; WeChat will call again", metadata: ["error": "\(error)"])
                return false
            }
        }
        return true
    }
}

/// A set of the newest `capacity` keys.
struct RecentKeys {
    private var keys: Set<String> = []
    private var order: Deque<String> = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// False when `key` is already there.
    mutating func insert(_ key: String) -> Bool {
        guard keys.insert(key).inserted else { return false }
        order.append(key)
        while order.count > capacity, let oldest = order.popFirst() { keys.remove(oldest) }
        return true
    }

    mutating func remove(_ key: String) {
        keys.remove(key)
        order.removeAll { $0 == key }
    }
}
