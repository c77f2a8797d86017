import AsyncHTTPClient
import Foundation
import JSON
import Logging
import Synchronization

/// One HTTP exchange with WeChat: bounded in time, bounded body, errors mapped to `WeChatError`
/// with how far the request got (`SendProgress`), which decides whether it may be made again.
///
/// URLs carry the access token or the appsecret in their query, so only `loggedPath` is ever
/// logged and transport messages are scrubbed of `secrets` before they leave.
struct APITransport: Sendable {
    /// A template library (the largest answer: up to a few dozen templates) fits many times over.
    static let maxResponseBytes = 512 * 1024

    let httpClient: HTTPClient
    /// The whole exchange's bound: waiting for a connection, connecting, writing and the answer
    /// (the HTTP client's own connect timeout bounds the connecting).
    let timeout: Duration
    let logger: Logger

    /// The 200 answer's body, parsed as WeChat's JSON.
    func call(
        post body: [UInt8]?,
        url: String,
        loggedPath: String,
        secrets: [String],
        trace: TraceHeader? = nil
    ) async throws(WeChatError) -> APIAnswer {
        var request = HTTPClientRequest(url: url)
        if let trace { request.headers.add(name: trace.name, value: trace.value) }
        let watched = body.map { WatchedBytes(bytes: $0) }
        if let watched {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(watched)
        } else {
            request.method = .GET
        }
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            let status = Int(response.status.code)
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            guard status == 200 else {
                logger.debug("WeChat answered HTTP \(status)", metadata: ["path": "\(loggedPath)", "trace": "\(trace?.value ?? "-")"])
                throw WeChatError.transport("HTTP \(status) from \(loggedPath)", httpStatus: status, progress: .of(httpStatus: status))
            }
            bytes = Array(buffer.readableBytesView)
        } catch let error as WeChatError {
            throw error
        } catch {
            // A body the client never started writing is a request WeChat never got whole.
            let progress: SendProgress = watched?.taken.value == false ? .notWritten : .writtenNoAnswer
            let problem = Self.scrub("\(error)", secrets: secrets)
            logger.debug(
                "WeChat request failed",
                metadata: [
                    "path": "\(loggedPath)", "error": "\(problem)", "written": "\(progress == .writtenNoAnswer)",
                    "trace": "\(trace?.value ?? "-")",
                ])
            throw WeChatError.transport("\(problem) (\(loggedPath)\(progress == .notWritten ? ", not written" : ""))", progress: progress)
        }
        guard case .object(let fields)? = try? JSONValue(parsing: bytes) else {
            throw WeChatError.transport("unparsable answer from \(loggedPath)", httpStatus: 200, progress: .writtenNoAnswer)
        }
        let quota = fields["quota"]?.object
        return APIAnswer(
            errcode: fields["errcode"]?.int64.map(Int.init), errmsg: fields["errmsg"]?.string, msgid: fields["msgid"]?.int64,
            access_token: fields["access_token"]?.string, expires_in: fields["expires_in"]?.int64.map(Int.init),
            quota: quota.flatMap { quota in
                guard let limit = quota["daily_limit"]?.int64, let used = quota["used"]?.int64 else { return nil }
                return DailyQuota(dailyLimit: Int(limit), used: Int(used))
            },
            fields: fields
        )
    }

    private static func scrub(_ text: String, secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}

/// A request body that notes when the HTTP client takes its bytes. AsyncHTTPClient (1.37, pinned)
/// reads a body of bytes only once the request head went out on a connection, so a body never
/// read belongs to a request no server received whole. (A streamed body would say the same, at
/// the cost of a task per request.)
struct WatchedBytes: RandomAccessCollection, Sendable {
    final class Taken: Sendable {
        private let flag = Atomic<Bool>(false)
        var value: Bool { flag.load(ordering: .acquiring) }
        func set() { flag.store(true, ordering: .releasing) }
    }

    let bytes: [UInt8]
    let taken = Taken()

    var startIndex: Int { bytes.startIndex }
    var endIndex: Int { bytes.endIndex }
    subscript(position: Int) -> UInt8 { bytes[position] }

    func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        taken.set()
        return try bytes.withContiguousStorageIfAvailable(body)
    }

    func makeIterator() -> IndexingIterator<[UInt8]> {
        taken.set()
        return bytes.makeIterator()
    }
}

/// Every WeChat answer this module reads: send results and token grants share one shape.
struct APIAnswer {
    var errcode: Int?
    var errmsg: String?
    var msgid: Int64?
    var access_token: String?
    var expires_in: Int?
    var quota: DailyQuota? = nil
    /// Every field of the answer, for the calls that read more than these.
    var fields: [String: JSONValue] = [:]
}

/// `quota/get`'s answer: the account's daily limit for an API and what today used of it.
public struct DailyQuota: Sendable, Equatable {
    public var dailyLimit: Int
    public var used: Int
}

extension Duration {
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Query values (appid, secret, token) percent-encoded so no character changes the URL's meaning.
func queryEscaped(_ value: String) -> String {
    let utf8 = value.utf8
    guard !utf8.allSatisfy(isUnreserved) else { return value }
    var escaped: [UInt8] = []
    escaped.reserveCapacity(utf8.count * 3)
    for byte in utf8 {
        if isUnreserved(byte) {
            escaped.append(byte)
        } else {
            escaped.append(UInt8(ascii: "%"))
            escaped.append(upperHexDigits[Int(byte >> 4)])
            escaped.append(upperHexDigits[Int(byte & 0xF)])
        }
    }
    return String(decoding: escaped, as: UTF8.self)
}

/// RFC 3986's unreserved characters: letters, digits, `-`, `.`, `_`, `~`.
private func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
        UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
        true
    default:
        false
    }
}

private let upperHexDigits = Array("0123456789ABCDEF".utf8)

/// The request's trace context (`traceparent`, or `x-request-id`), carried onto the WeChat call.
public struct TraceHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    /// The trace id alone: a `traceparent`'s second field, else the header's value.
    public var traceID: String? { name == "traceparent" ? Self.traceID(ofParent: value) : value }

    /// The 32 hex digits of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`); nil if malformed.
    public static func traceID(ofParent value: String) -> String? {
        let fields = value.split(separator: "-")
        return fields.count >= 4 && fields[1].count == 32 ? String(fields[1]) : nil
    }

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
