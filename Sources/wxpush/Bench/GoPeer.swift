import ArgumentParser
import Foundation
import Harness

extension WeChatStandIn: ExpressibleByArgument {}

/// The Go peer dispatcher of `../shared/peers/go-dispatcher`, built by its own `build.sh`.
enum GoPeer {
    /// The binary's path, or nil (with the reason printed) when it cannot be built: no sources
    /// there, or Go and sarama are not installed and apt-get could not install them.
    static func build(directory: String) -> String? {
        let script = URL(fileURLWithPath: directory).appendingPathComponent("build.sh")
        guard FileManager.default.fileExists(atPath: script.path) else {
            print("go peer: skipped, no \(script.path) (set --peer-directory)")
            return nil
        }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("wxpush-bench-go-dispatcher").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, output]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        do { try process.run() } catch {
            print("go peer: skipped, cannot run \(script.path): \(error)")
            return nil
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: output) else {
            print("go peer: skipped, Go is not installed or the peer does not build (\(script.path) exited \(process.terminationStatus))")
            if !message.isEmpty { print(message.split(separator: "\n").suffix(5).map { "  " + $0 }.joined(separator: "\n")) }
            return nil
        }
        return output
    }
}
