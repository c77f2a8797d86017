import Foundation
import Harness
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

    /// A Tansu broker of its own for one test.
    static func broker() async throws -> TansuBroker {
        guard isAvailable else { throw TimedOut(what: "the second Kafka lane (.kafka-lane/: run scripts/test, which sets it up)") }
        return try await TansuBroker(executable: tansu)
    }
}
