import Foundation
import JSON
import Logging
import Synchronization
import WeChat

/// One JSON object per line on stderr, for log pipelines: `timestamp`, `level`, `logger`,
/// `message`, `metadata` (strings), and `trace_id` when the metadata carries a trace
/// (`traceparent`'s trace id, else `x-request-id`). Lines are written whole, one at a time.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var write: @Sendable ([UInt8]) -> Void = { JSONLogHandler.standardError($0) }

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        write(Self.line(level: event.level, label: label, message: "\(event.message)", metadata: merged, at: Date()))
    }

    static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata, at date: Date) -> [UInt8] {
        var out = JSONWriter()
        out.object {
            $0.field("timestamp", date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
            $0.field("level", level.rawValue)
            $0.field("logger", label)
            $0.field("message", message)
            if !metadata.isEmpty {
                $0.key("metadata")
                $0.object { fields in
                    for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { fields.field(key, "\(value)") }
                }
            }
            $0.field("trace_id", traceID(metadata))
        }
        return out.bytes + [UInt8(ascii: "\n")]
    }

    private static func traceID(_ metadata: Logger.Metadata) -> String? {
        metadata["traceparent"].flatMap { TraceHeader.traceID(ofParent: "\($0)") } ?? metadata["x-request-id"].map { "\($0)" }
    }

    private static let lock = Mutex(())
    private static func standardError(_ bytes: [UInt8]) {
        lock.withLock { _ in
            bytes.withUnsafeBufferPointer { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { return }
                    offset += written
                }
            }
        }
    }
}
