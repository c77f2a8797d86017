import Foundation

/// RFC 3339 timestamps, with or without fractional seconds, `Z` or a `±hh:mm` offset; outcomes
/// are written in UTC with milliseconds.
public enum Timestamp {
    private static let parsers: [Date.ISO8601FormatStyle] = [true, false].flatMap { fractional in
        [Date.ISO8601FormatStyle.TimeZoneSeparator.colon, .omitted].map {
            Date.ISO8601FormatStyle(timeZoneSeparator: $0, includingFractionalSeconds: fractional)
        }
    }
    private static let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    public static func parse(_ text: String) -> Date? {
        for parser in parsers {
            if let date = try? parser.parse(text) { return date }
        }
        return nil
    }

    public static func format(_ date: Date) -> String { formatter.format(date) }
}
