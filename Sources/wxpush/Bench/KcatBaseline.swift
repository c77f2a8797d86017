import Foundation

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
        let line = String(repeating: "x", count: size) + "\n"
        try Data(String(repeating: line, count: count).utf8).write(to: file)
        let arguments =
            ["-b", bootstrap, "-P", "-t", topic, "-X", "enable.idempotence=true", "-X", "acks=all"] + propertyArguments + ["-l", file.path]
        let seconds = try run(arguments)
        return Throughput(messages: count, seconds: seconds, note: "includes process start")
    }

    func consume(topic: String, count: Int) throws -> Throughput {
        let arguments = ["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-c", "\(count)", "-f", "%s\n"]
        let seconds = try run(arguments)
        return Throughput(messages: count, seconds: seconds, note: "includes process start")
    }

    private func run(_ arguments: [String]) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let start = ContinuousClock.now
        do { try process.run() } catch { throw BenchFailure("kcat not found: apt-get install -y kcat (\(error))") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchFailure("kcat exited with \(process.terminationStatus)") }
        return (ContinuousClock.now - start).seconds
    }
}
