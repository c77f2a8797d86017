/// WeChat's limits on subscribe-message `data` values (wechat-api.md); a violation is errcode 47003.
///
/// Lengths count Swift `Character`s, as a reader would.
public enum FieldLimits {
    /// "thing12" -> .thing, "character_string3" -> .characterString, "keyword1" -> nil.
    public static func type(ofKey key: String) -> SubscribeFieldType? {
        let prefix = key.reversed().drop(while: \.isASCIIDigitCharacter).reversed()
        return SubscribeFieldType(rawValue: String(prefix))
    }

    /// nil when the value is acceptable (or the key is not typed); else a short reason naming the field.
    public static func violation(key: String, value: String) -> String? {
        guard let type = type(ofKey: key) else { return nil }
        let count = value.count
        if count == 0 {
            return "\(key) is empty"
        }
        if let limit = characterLimit(of: type, value: value), count > limit {
            return "\(key) is \(count) characters, limit \(limit)"
        }
        if let expected = formatProblem(of: type, value: value) {
            return "\(key) must be \(expected), got \"\(value)\""
        }
        return nil
    }

    /// Types whose meaning survives cutting (text), unlike numbers, amounts and dates.
    public static func isTruncatable(_ type: SubscribeFieldType) -> Bool {
        switch type {
        case .thing, .letter, .characterString, .name, .phrase, .symbol: true
        case .number, .phoneNumber, .carNumber, .amount, .time, .date: false
        }
    }

    /// Cut to the limit with a trailing "…" counted in the limit; unchanged when within the limit,
    /// when the key is untyped or when its type is not truncatable. `letter` and `phrase` values
    /// are cut without the ellipsis, because "…" is neither a letter nor a CJK character.
    public static func truncated(key: String, value: String) -> String {
        guard let type = type(ofKey: key), isTruncatable(type),
            let limit = characterLimit(of: type, value: value), value.count > limit
        else { return value }
        switch type {
        case .letter, .phrase:
            return String(value.prefix(limit))
        default:
            return String(value.prefix(limit - 1)) + "…"
        }
    }

    /// nil for types limited by format rather than by a character count (amount, time, date).
    static func characterLimit(of type: SubscribeFieldType, value: String) -> Int? {
        switch type {
        case .thing: 20
        case .number, .letter, .characterString: 32
        case .symbol: 5
        case .phoneNumber: 17
        case .carNumber: 8
        case .name: value.contains(where: \.isCJK) ? 10 : 20
        case .phrase: 5
        case .amount, .time, .date: nil
        }
    }

    /// What the value should look like, when it does not.
    static func formatProblem(of type: SubscribeFieldType, value: String) -> String? {
        switch type {
        case .thing, .symbol, .carNumber, .name:
            return nil
        case .number:
            return isNumber(value) ? nil : "digits with an optional leading '-' and one '.'"
        case .letter:
            return value.allSatisfy { $0.isASCII && $0.isLetter } ? nil : "ASCII letters only"
        case .characterString:
            return value.contains(where: \.isCJK) ? "letters, digits and symbols without CJK characters" : nil
        case .phoneNumber:
            return value.allSatisfy { $0.isASCIIDigitCharacter || "+- ".contains($0) }
                ? nil : "digits, '+', '-' and spaces"
        case .phrase:
            return value.allSatisfy(\.isCJK) ? nil : "up to 5 CJK characters"
        case .amount:
            return AmountFormat.matches(value)
                ? nil : "an optional currency sign and up to 10 digits with up to 2 decimals"
        case .time, .date:
            return DateTimeFormat.matches(value) ? nil : "a date or time such as 2026-11-22 09:00 or 2026年11月22日"
        }
    }

    private static func isNumber(_ value: Substring) -> Bool {
        let unsigned = value.first == "-" ? value.dropFirst() : value
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count <= 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isASCIIDigitCharacter) }
    }

    private static func isNumber(_ value: String) -> Bool {
        isNumber(value[...])
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool {
        isASCII && isWholeNumber
    }

    /// CJK ideographs (unified, extensions, compatibility); punctuation and kana are not counted.
    var isCJK: Bool {
        unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0x20000...0x2EBEF, 0x30000...0x3134F: true
            default: false
            }
        }
    }
}
