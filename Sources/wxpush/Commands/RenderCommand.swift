import ArgumentParser
import Dispatcher
import Foundation
import WeChat

/// `wxpush render --config FILE EVENT.json`: what a request becomes, without sending: the WeChat
/// API and body its rule makes (and any field cut to its limit), or the rejection it would get.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Prints the WeChat body a rule makes for an event, or why it would be rejected; sends nothing.")

    @Option(help: "The configuration file (its rules and accounts; AppSecrets are not needed).")
    var config: String = ConfigurationLoader.defaultPath

    @Argument(help: "A request event as JSON (a file, or - for standard input).")
    var event: String

    func run() throws {
        let resolved = try CheckConfigCommand.loadOrExplain(config, requiresSecrets: false)
        let bytes: [UInt8]
        if event == "-" {
            bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
        } else if let data = FileManager.default.contents(atPath: event) {
            bytes = Array(data)
        } else {
            throw ValidationError("cannot read \(event)")
        }
        let request: RequestEvent
        switch RequestEvent.decode(bytes) {
        case .failure(let invalid): return try Self.rejected(ReasonCode.invalidEvent.rawValue, "invalid_event: \(invalid.problem)")
        case .success(let decoded): request = decoded
        }
        guard resolved.accounts.contains(where: { $0.name == request.app }) else {
            return try Self.rejected(ReasonCode.unknownApp.rawValue, "unknown_app: no WeChat account named \(request.app)")
        }
        var cut: [String] = []
        switch resolved.ruleBook.message(for: request, truncated: { cut.append($0) }) {
        case .failure(let rejection):
            try Self.rejected(rejection.code.rawValue, rejection.reason)
        case .success(let message):
            print("POST \(message.kind.path) (\(message.kind.rawValue), account \(request.app))")
            print(String(decoding: message.jsonBody(), as: UTF8.self))
            for note in cut { print("truncated: \(note)") }
        }
    }

    /// The rejection on stdout, exit 2 (1 is a configuration problem).
    private static func rejected(_ code: String, _ reason: String) throws {
        print("rejected: reason_code \(code)")
        print("reason: \(reason)")
        throw ExitCode(2)
    }
}
