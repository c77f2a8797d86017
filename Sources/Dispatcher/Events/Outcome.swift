import Foundation
import Kafka

/// The one final outcome of a request (CONTRACT.md, `"kind": "dispatch"`).
public struct Outcome: Sendable, Equatable {
    public enum Status: String, Sendable, Codable { case sent, rejected, failed, expired }

    public var id: String
    public var app: String?
    public var to: String?
    public var type: String?
    public var status: Status
    public var templateID: String?
    public var msgid: Int64?
    public var errcode: Int?
    public var errmsg: String?
    public var reason: String?
    public var attempts: Int
    public var source: TopicPartition
    public var offset: Int64
    public var receivedAt: Date
    public var completedAt: Date

    /// Failed and rejected-invalid requests also get a DLQ copy of their original bytes.
    public var needsDeadLetter: Bool

    public func json() -> [UInt8] {
        Array(try! Self.encoder.encode(Wire(self)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The wire form: every contract field present, `null` included.
    private struct Wire: Encodable {
        let outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }

        enum Key: String, CodingKey {
            case v, kind, id, app, to, type, status, msgid, errcode, errmsg, reason, attempts, source
            case templateID = "template_id", receivedAt = "received_at", completedAt = "completed_at"
        }
        struct Source: Encodable { let topic: String; let partition: Int32; let offset: Int64 }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(1, forKey: .v)
            try c.encode("dispatch", forKey: .kind)
            try c.encode(outcome.id, forKey: .id)
            try c.encode(outcome.app, forKey: .app)
            try c.encode(outcome.to, forKey: .to)
            try c.encode(outcome.type, forKey: .type)
            try c.encode(outcome.status, forKey: .status)
            try c.encode(outcome.templateID, forKey: .templateID)
            try c.encode(outcome.msgid, forKey: .msgid)
            try c.encode(outcome.errcode, forKey: .errcode)
            try c.encode(outcome.errmsg, forKey: .errmsg)
            try c.encode(outcome.reason, forKey: .reason)
            try c.encode(outcome.attempts, forKey: .attempts)
            try c.encode(Source(topic: outcome.source.topic, partition: outcome.source.partition, offset: outcome.offset), forKey: .source)
            try c.encode(Timestamp.format(outcome.receivedAt), forKey: .receivedAt)
            try c.encode(Timestamp.format(outcome.completedAt), forKey: .completedAt)
        }
    }
}

/// An outcome event read back from the results topic (for tests, the demo and benchmarks).
public struct OutcomeRecord: Sendable, Decodable, Equatable {
    public let v: Int
    public let kind: String
    public let id: String
    public let status: String
    public let reason: String?
    public let errcode: Int?
    public let msgid: Int64?
    public let attempts: Int
    public let to: String?

    public static func decode(_ bytes: [UInt8]) -> OutcomeRecord? {
        try? JSONDecoder().decode(OutcomeRecord.self, from: Data(bytes))
    }
}
