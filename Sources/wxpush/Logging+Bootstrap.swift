import Foundation
import Logging

/// Only the command being run bootstraps logging, once; components receive a `Logger`.
enum LogSetup {
    static func bootstrap(defaultLevel: Logger.Level = .info) {
        let level = ProcessInfo.processInfo.environment["WXPUSH_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
