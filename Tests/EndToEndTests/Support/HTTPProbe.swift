import AsyncHTTPClient
import Foundation
import NIOCore

/// One HTTP exchange with a `wxpush run` child, bounded in time.
enum HTTPProbe {
    struct Answer: Sendable {
        let status: Int
        let body: String
    }

    static func get(_ url: String) async throws -> Answer { try await exchange(url, post: false, body: nil) }

    static func post(_ url: String, body: String, headers: [(String, String)] = []) async throws -> Answer {
        try await exchange(url, post: true, body: body, headers: headers)
    }

    static func exchange(_ url: String, post: Bool, body: String?, headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = post ? .POST : .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes))
    }

    /// The first answer once the server listens (connection refused until then), within `timeout`.
    static func firstAnswer(_ url: String, timeout: Duration = .seconds(30)) async throws -> Answer {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let answer = try? await get(url) { return answer }
            guard ContinuousClock.now < deadline else { throw TimedOut(what: "an answer from \(url)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The sum of a Prometheus metric's samples whose labels include every pair in `labels`.
    static func sum(_ metrics: String, _ name: String, _ labels: [String: String] = [:]) -> Double {
        metrics.split(separator: "\n").reduce(0) { total, line in
            guard !line.hasPrefix("#"), line.hasPrefix(name), let space = line.lastIndex(of: " ") else { return total }
            let series = line[..<space]
            guard series == name || series.hasPrefix(name + "{") else { return total }
            guard labels.allSatisfy({ series.contains("\($0.key)=\"\($0.value)\"") }) else { return total }
            return total + (Double(line[line.index(after: space)...]) ?? 0)
        }
    }
}
