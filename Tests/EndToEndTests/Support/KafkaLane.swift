import Foundation
import Testing

/// The second Kafka lane: librdkafka 2.16 (loaded by `wxpush` children through `LD_LIBRARY_PATH`)
/// and a Tansu broker, a Kafka implementation of its own, started per test on a free port.
/// `scripts/test` sets it up in `.kafka-lane/`; without it these tests are skipped, unless
/// `WXPUSH_REQUIRE_LANE` says it must be there.
enum KafkaLane {
    static let environment = ProcessInfo.processInfo.environment
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let libraryDirectory =
        environment["WXPUSH_LIBRDKAFKA_LANE"] ?? packageRoot.appendingPathComponent(".kafka-lane/lib").path
    static let tansu = environment["WXPUSH_TANSU"] ?? packageRoot.appendingPathComponent(".kafka-lane/tansu").path

    static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: tansu)
            && FileManager.default.fileExists(atPath: libraryDirectory + "/librdkafka.so.1")
    }

    /// Runs the lane's tests when it is set up, and fails them when `scripts/test` required it.
    static var enabled: Bool { isAvailable || environment["WXPUSH_REQUIRE_LANE"] == "1" }

    /// What a `wxpush` child needs to load librdkafka 2.16 instead of the system's.
    static var childEnvironment: [String: String] { ["LD_LIBRARY_PATH": libraryDirectory] }
}

/// One Tansu broker (memory storage) on a free port of 127.0.0.1, stopped on `stop` or deinit.
final class TansuBroker: @unchecked Sendable {
    // @unchecked Sendable: `process` and `address` are set in init and only read afterwards.
    private let process = Process()
    let bootstrapServers: String

    init() async throws {
        guard KafkaLane.isAvailable else {
            throw TimedOut(what: "the second Kafka lane (.kafka-lane/: run scripts/test, which sets it up)")
        }
        let port = try Self.freePort()
        bootstrapServers = "127.0.0.1:\(port)"
        process.executableURL = URL(fileURLWithPath: KafkaLane.tansu)
        process.arguments = [
            "broker", "--listener-url", "tcp://\(bootstrapServers)", "--advertised-listener-url", "tcp://\(bootstrapServers)",
            "--storage-engine", "memory://tansu/", "--silent",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await eventually("Tansu to listen on \(bootstrapServers)", timeout: .seconds(20)) { Self.accepts(port) }
    }

    deinit { stop() }

    /// SIGKILL: Tansu does not stop on SIGTERM, and a memory broker has nothing to keep.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    private static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TimedOut(what: "a free port") }
        return UInt16(bigEndian: address.sin_port)
    }

    private static func accepts(_ port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
