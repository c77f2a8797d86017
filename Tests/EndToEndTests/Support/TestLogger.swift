import Logging

extension Logger {
    /// What the in-process parts of a test log: warnings and above, so a green run reads in one
    /// screen (assignments, revocations and stops are info).
    static func test(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return logger
    }
}
