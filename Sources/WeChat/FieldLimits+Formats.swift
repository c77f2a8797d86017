/// `amount`: an optional currency sign (¥ ￥ $ € £ or a code such as "CNY"), up to 10 digits,
/// up to 2 decimals, optionally followed by "元".
enum AmountFormat {
    static func matches(_ value: String) -> Bool {
        var text = Substring(value)
        if let sign = text.first, "¥￥$€£".contains(sign) {
            text = text.dropFirst()
        } else if text.prefix(3).allSatisfy({ $0.isASCII && $0.isUppercase }), text.count > 3 {
            text = text.dropFirst(3)
        }
        text = text.drop(while: { $0 == " " })
        if text.last == "元" {
            text = text.dropLast()
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...10).contains(whole.count), whole.allSatisfy(\.isASCIIDigitCharacter)
        else { return false }
        guard parts.count > 1 else { return true }
        return parts.count == 2 && (1...2).contains(parts[1].count) && parts[1].allSatisfy(\.isASCIIDigitCharacter)
    }
}

/// `time` and `date`: a recognisable date, time or date and time, or a range of two joined by "~".
/// Accepts 2026-11-22, 2026/11/22, 2026.11.22, 2026年11月22日, 11月22日, 09:00, 09:00:30, 9点30分,
/// and a date followed by a time.
enum DateTimeFormat {
    static func matches(_ value: String) -> Bool {
        let moments = value.split(separator: "~", omittingEmptySubsequences: false)
        return moments.count <= 2 && moments.allSatisfy(isMoment)
    }

    private static func isMoment(_ text: Substring) -> Bool {
        let start = Scanner(text.trimmingSpaces())
        var scanner = start
        if scanDate(&scanner) {
            scanner.skipSpaces()
            return scanner.atEnd || (scanTime(&scanner) && scanner.atEnd)
        }
        scanner = start
        return scanTime(&scanner) && scanner.atEnd
    }

    private static func scanDate(_ scanner: inout Scanner) -> Bool {
        let start = scanner
        if scanner.number(digits: 4...4) != nil, let separator = scanner.next(in: "-/."),
            let month = scanner.number(digits: 1...2), scanner.literal(separator),
            let day = scanner.number(digits: 1...2)
        {
            return isCalendarDay(month: month, day: day)
        }
        scanner = start
        if scanner.number(digits: 4...4) == nil || !scanner.literal("年") {
            scanner = start
        }
        if let month = scanner.number(digits: 1...2), scanner.literal("月"),
            let day = scanner.number(digits: 1...2), scanner.literal("日") || scanner.literal("号")
        {
            return isCalendarDay(month: month, day: day)
        }
        scanner = start
        return false
    }

    private static func scanTime(_ scanner: inout Scanner) -> Bool {
        let start = scanner
        if let hour = scanner.number(digits: 1...2), scanner.literal(":"), let minute = scanner.number(digits: 2...2) {
            if scanner.literal(":") {
                guard let second = scanner.number(digits: 2...2), second < 60 else { return false }
            }
            return hour <= 24 && minute < 60
        }
        scanner = start
        if let hour = scanner.number(digits: 1...2), scanner.literal("点") || scanner.literal("时") {
            guard let minute = scanner.number(digits: 1...2), minute < 60 else {
                return hour <= 24
            }
            _ = scanner.literal("分")
            return hour <= 24
        }
        scanner = start
        return false
    }

    private static func isCalendarDay(month: Int, day: Int) -> Bool {
        (1...12).contains(month) && (1...31).contains(day)
    }
}

/// A cursor over characters for the small grammars above.
private struct Scanner {
    private let characters: [Character]
    private var index = 0

    init(_ text: Substring) {
        characters = Array(text)
    }

    var atEnd: Bool { index == characters.count }

    /// A run of ASCII digits whose length is within `digits`; consumes nothing otherwise.
    mutating func number(digits: ClosedRange<Int>) -> Int? {
        var end = index
        while end < characters.count, characters[end].isASCIIDigitCharacter {
            end += 1
        }
        guard digits.contains(end - index), let value = Int(String(characters[index..<end])) else { return nil }
        index = end
        return value
    }

    mutating func literal(_ character: Character) -> Bool {
        guard index < characters.count, characters[index] == character else { return false }
        index += 1
        return true
    }

    mutating func next(in set: String) -> Character? {
        guard index < characters.count, set.contains(characters[index]) else { return nil }
        index += 1
        return characters[index - 1]
    }

    mutating func skipSpaces() {
        while index < characters.count, characters[index] == " " {
            index += 1
        }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var text = self
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return text
    }
}
