import AsyncHTTPClient
import Foundation
import Simulator
import Waiting

/// Which WeChat stand-in a run talks to.
public enum WeChatStandIn: String, Sendable, CaseIterable {
    /// The built-in simulator (Hummingbird, in this process): faults, quotas, token semantics.
    case builtin
    /// `ThreadedWeChatServer`: a plain thread-per-connection server in another process, written by
    /// nobody who tuned wxpush's client against it.
    case threaded
}

/// The threaded stand-in (Python's `ThreadingHTTPServer`) as a child process on a free port.
public final class ThreadedWeChatServer: Sendable {
    public let baseURL: String
    private let process: Process

    /// Starts it with a fixed answer delay for sends; waits (at most 10 s) until it listens.
    /// `backlog`: its listen backlog; Python's default is 5, and a burst of new connections beyond
    /// what it has accepted has SYNs and handshake ACKs dropped (the client may believe a
    /// connection open, and write to it, while the server has not taken it yet).
    public init(latency: Duration, appID: String, secret: String, backlog: Int = 5) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, "0", String(latency.seconds * 1000), appID, secret, String(backlog)]
        let output = Pipe()
        process.standardOutput = output
        // It exits when this pipe closes, so it never outlives this process.
        process.standardInput = Pipe()
        do { try process.run() } catch { throw HarnessError("cannot start python3 for the threaded WeChat server: \(error)") }
        self.process = process
        // Its first line is the port; a server that never prints one is stopped, not waited for.
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: watchdog)
        var line: [UInt8] = []
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        watchdog.cancel()
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw HarnessError("the threaded WeChat server (python3) did not start within 10 s")
        }
        baseURL = "http://127.0.0.1:\(port)"
    }

    /// What it saw, from GET /sim/stats.
    public func stats() async throws -> SimulatorStats {
        let response = try await HTTPClient.shared.get(url: baseURL + "/sim/stats").get()
        guard response.status == .ok, let body = response.body else {
            throw HarnessError("the threaded WeChat server's /sim/stats answered \(response.status)")
        }
        return try JSONDecoder().decode(SimulatorStats.self, from: Data(body.readableBytesView))
    }

    /// Its CPU seconds so far.
    public var cpuSeconds: Double { ProcessUsage.of(pid: process.processIdentifier).cpuSeconds }

    /// SIGKILL: it keeps nothing worth a graceful stop, and a SIGTERM did not end it (it can start
    /// with SIGTERM blocked or ignored, inherited from the thread that spawned it; a stop hung so).
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
