import Foundation
import Waiting

/// kcat (Debian's, linked to the same librdkafka) doing the same work: the baseline of `bench kafka`.
struct KcatBaseline {
    let bootstrap: String
    let properties: [String: String]

    private var propertyArguments: [String] {
        properties.filter { $0.key != "bootstrap.servers" }.sorted { $0.key < $1.key }.flatMap { ["-X", "\($0.key)=\($0.value)"] }
    }

    /// Produces `count` lines of `size` bytes from a file; the timing includes kcat's start and final flush.
    func produce(topic: String, count: Int, size: Int) throws -> Throughput {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-bench-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        let payload = String(repeating: "x", count: size)
        var text = ""
        text.reserveCapacity(count * (size + 10))
        for index in 0..<count { text += "\(index):\(payload)\n" }
        try Data(text.utf8).write(to: file)
        let arguments =
            ["-b", bootstrap, "-P", "-t", topic, "-K:", "-X", "enable.idempotence=true", "-X", "acks=all"] + propertyArguments
            + ["-l", file.path]
        let (seconds, _) = try run(arguments)
        return Throughput(messages: count, seconds: seconds, note: "includes process start")
    }

    func consume(topic: String, count: Int) throws -> Throughput {
        let arguments = ["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-c", "\(count)", "-f", "%p\n"]
        let (seconds, lines) = try run(arguments)
        guard lines == count else { throw BenchFailure("kcat consumed \(lines) of \(count) messages") }
        return Throughput(messages: count, seconds: seconds, note: "includes process start")
    }

    /// Runs kcat; returns the seconds it took and the lines it printed.
    private func run(_ arguments: [String]) throws -> (Double, Int) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-kcat-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        let start = ContinuousClock.now
        do { try process.run() } catch { throw BenchFailure("kcat not found: apt-get install -y kcat (\(error))") }
        process.waitUntilExit()
        let seconds = (ContinuousClock.now - start).seconds
        guard process.terminationStatus == 0 else { throw BenchFailure("kcat exited with \(process.terminationStatus)") }
        let lines = try Data(contentsOf: output).reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        return (seconds, lines)
    }
}
