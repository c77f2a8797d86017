import Foundation
import Logging

/// Only the command being run bootstraps logging, once; components receive a `Logger`.
enum LogSetup {
    enum Format: String, Sendable { case text, json }

    /// `logging.format` / `logging.level` of the configuration; `WXPUSH_LOG_FORMAT` and
    /// `WXPUSH_LOG_LEVEL` win over them.
    struct Settings: Sendable {
        var format: Format?
        var level: Logger.Level?
    }

    static func bootstrap(_ settings: Settings = Settings(), defaultLevel: Logger.Level = .info) {
        let environment = ProcessInfo.processInfo.environment
        let level = environment["WXPUSH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? settings.level ?? defaultLevel
        let format = environment["WXPUSH_LOG_FORMAT"].flatMap(Format.init(rawValue:)) ?? settings.format ?? .text
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
