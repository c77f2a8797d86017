import Foundation

/// One Tansu broker (a Kafka implementation of its own, memory storage) on a free port of
/// 127.0.0.1, stopped on `stop` or deinit. librdkafka 2.0.2 cannot talk to it: its clients load
/// 2.16 (`LD_LIBRARY_PATH=.kafka-lane/lib`, which `scripts/test` sets up with the broker).
public final class TansuBroker: @unchecked Sendable {
    // @unchecked Sendable: `process` is set up in init and only signalled afterwards.
    private let process = Process()
    public let bootstrapServers: String

    public init(executable: String) async throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("no Tansu broker at \(executable) (scripts/test sets one up in .kafka-lane/)")
        }
        let port = try freeLocalPort()
        bootstrapServers = "127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "broker", "--listener-url", "tcp://\(bootstrapServers)", "--advertised-listener-url", "tcp://\(bootstrapServers)",
            "--storage-engine", "memory://tansu/", "--silent",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !Self.accepts(port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw HarnessError("Tansu did not listen on \(bootstrapServers) within 20 s")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    deinit { stop() }

    /// SIGKILL: Tansu does not stop on SIGTERM, and a memory broker has nothing to keep.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static func accepts(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
