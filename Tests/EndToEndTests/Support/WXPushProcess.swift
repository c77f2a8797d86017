import Foundation
import Testing

/// The built `wxpush` binary, run as a child process: the real thing, over real sockets.
final class WXPushProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` and the pipes are set in init and only read afterwards;
    // `lines` is guarded by `lock`.
    let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var lines: [String] = []
    private var partial = Data()

    init(_ arguments: [String], environment: [String: String] = [:], stderr: URL? = nil) throws {
        process.executableURL = try Self.executable()
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        if let stderr {
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderr)
        }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.append(handle.availableData) }
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    private func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        partial.append(data)
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
            partial = Data(partial[partial.index(after: newline)...])
        }
    }

    var stdoutLines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
    }

    /// The first line of stdout, waited for at most `timeout`.
    func firstLine(timeout: Duration = .seconds(30)) async throws -> String {
        try await eventually("first line of wxpush stdout", timeout: timeout) { !self.stdoutLines.isEmpty || !self.process.isRunning }
        guard let line = stdoutLines.first else { throw TimedOut(what: "wxpush printed nothing and exited \(process.terminationStatus)") }
        return line
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Resident memory now (VmRSS), in MiB; 0 once it exited.
    var residentMiB: Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) })
        else { return 0 }
        return kibibytes / 1024
    }

    var isRunning: Bool { process.isRunning }

    /// Waits for exit at most `timeout`; returns the exit status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually("wxpush to exit", timeout: timeout) { !self.process.isRunning }
        output.fileHandleForReading.readabilityHandler = nil
        append(output.fileHandleForReading.readDataToEndOfFile())
        return process.terminationStatus
    }

    /// `wxpush` next to the test bundle (`swift build` puts both in the same bin directory).
    static func executable() throws -> URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var candidates = [testBinary.deletingLastPathComponent().appendingPathComponent("wxpush")]
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/wxpush"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw TimedOut(what: "the wxpush binary (run `swift build` first; looked in \(candidates.map(\.path)))")
        }
        return found
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Polls `condition` every 50 ms until it holds, failing after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TimedOut(what: what)
}

/// Runs a command to completion with `input` on stdin; returns stdout. Bounded by `timeout`.
func runTool(
    _ path: String, _ arguments: [String], input: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(60)
) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let stdout = Pipe()
    let stdin = Pipe()
    process.standardOutput = stdout
    process.standardInput = stdin
    let collected = LockedData()
    stdout.fileHandleForReading.readabilityHandler = { collected.append($0.availableData) }
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    do {
        try await eventually("\(path) \(arguments.joined(separator: " "))", timeout: timeout) { !process.isRunning }
    } catch {
        process.terminate()
        throw error
    }
    stdout.fileHandleForReading.readabilityHandler = nil
    collected.append(stdout.fileHandleForReading.readDataToEndOfFile())
    #expect(process.terminationStatus == 0, "\(path) exited \(process.terminationStatus)")
    return collected.string
}

final class LockedData: @unchecked Sendable {
    // @unchecked Sendable: every access goes through `lock`.
    private let lock = NSLock()
    private var data = Data()
    func append(_ more: Data) { lock.lock(); data.append(more); lock.unlock() }
    var string: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
}
