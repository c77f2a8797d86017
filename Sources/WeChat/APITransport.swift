import AsyncHTTPClient
import Foundation
import Logging

/// One HTTP exchange with WeChat: explicit timeout, bounded body, errors mapped to `WeChatError`.
///
/// URLs carry the access token or the appsecret in their query, so only `loggedPath` is ever
/// logged and transport messages are scrubbed of `secrets` before they leave.
struct APITransport: Sendable {
    static let maxResponseBytes = 64 * 1024

    let httpClient: HTTPClient
    let timeout: Duration
    let logger: Logger

    /// The 200 answer's body, parsed as WeChat's JSON.
    func call(
        post body: [UInt8]?,
        url: String,
        loggedPath: String,
        secrets: [String]
    ) async throws(WeChatError) -> APIAnswer {
        var request = HTTPClientRequest(url: url)
        if let body {
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
            request.body = .bytes(body)
        } else {
            request.method = .GET
        }
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            let status = Int(response.status.code)
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            guard status == 200 else {
                logger.debug("WeChat answered HTTP \(status)", metadata: ["path": "\(loggedPath)"])
                throw WeChatError.transport("HTTP \(status) from \(loggedPath)", httpStatus: status)
            }
            bytes = Array(buffer.readableBytesView)
        } catch let error as WeChatError {
            throw error
        } catch {
            let problem = Self.scrub("\(error)", secrets: secrets)
            logger.debug("WeChat request failed", metadata: ["path": "\(loggedPath)", "error": "\(problem)"])
            throw WeChatError.transport("\(problem) (\(loggedPath))")
        }
        guard let answer = try? JSONDecoder().decode(APIAnswer.self, from: Data(bytes)) else {
            throw WeChatError.transport("unparsable answer from \(loggedPath)", httpStatus: 200)
        }
        return answer
    }

    private static func scrub(_ text: String, secrets: [String]) -> String {
        secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "<redacted>") }
    }
}

/// Every WeChat answer this module reads: send results and token grants share one shape.
struct APIAnswer: Decodable {
    var errcode: Int?
    var errmsg: String?
    var msgid: Int64?
    var access_token: String?
    var expires_in: Int?
}

extension Duration {
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Query values (appid, secret, token) percent-encoded so no character changes the URL's meaning.
func queryEscaped(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: unreservedQueryCharacters) ?? value
}

private let unreservedQueryCharacters = CharacterSet(
    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
)
