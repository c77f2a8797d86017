import Foundation
import Kafka

/// A record of the dead-letter topic read back (`wxpush dlq`): why it is there, where it came
/// from, and the request to produce again once the cause is fixed.
public struct DeadLetterCopy: Sendable {
    public let record: KafkaMessage
    /// `wxpush-reason-code`; for copies written before that header, the code `wxpush-error` starts with.
    public let reasonCode: String
    public let error: String
    /// The request's topic, partition and offset (`wxpush-source`).
    public let source: (topic: String, partition: Int32, offset: Int64)?
    /// A copy cut to fit the topic (`wxpush-truncated`): it holds only the request's first bytes.
    public let isReference: Bool

    public init(_ record: KafkaMessage) {
        self.record = record
        func text(_ name: String) -> String? { record.header(name).map { String(decoding: $0, as: UTF8.self) } }
        error = text("wxpush-error") ?? ""
        reasonCode = text("wxpush-reason-code") ?? String(error.prefix { $0 != ":" && $0 != " " })
        isReference = record.header("wxpush-truncated") != nil
        let parts = text("wxpush-source")?.split(separator: "/") ?? []
        if parts.count >= 3, let partition = Int32(parts[parts.count - 2]), let offset = Int64(parts[parts.count - 1]) {
            source = (parts.dropLast(2).joined(separator: "/"), partition, offset)
        } else {
            source = nil
        }
    }

    /// The request's id, when its bytes are a request event.
    public var requestID: String? { try? RequestEvent.decode(record.value).get().id }

    /// The original request, to its topic: its key, bytes and headers (trace context included),
    /// without the `wxpush-*` headers the copy gained. Nil for a reference copy or an unknown source.
    public var replay: KafkaRecord? {
        guard !isReference, let source else { return nil }
        return KafkaRecord(
            topic: source.topic, key: record.key, value: record.value, headers: record.headers.filter { !$0.name.hasPrefix("wxpush-") })
    }
}
