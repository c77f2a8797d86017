/// The simulator's own reading of WeChat's typed data fields (the subscribe-message table, and
/// category template messages, whose `amount` takes 12 digits), written apart from wxpush's
/// `FieldLimits` so the tests check wxpush against rules it did not write. A keyword's type is
/// its name without the trailing digits: `thing1` is a `thing`, `keyword1` is untyped.
enum SimulatedFieldRules {
    /// Why WeChat would refuse `value` for `keyword`, or nil. `templateMessage`: a category
    /// template message rather than a subscribe message.
    static func refusal(keyword: String, value: String, templateMessage: Bool) -> String? {
        let type = String(keyword.reversed().drop { $0.isASCII && $0.isNumber }.reversed())
        let characters = Array(value)
        func longerThan(_ limit: Int) -> Bool { characters.count > limit }
        switch type {
        case "thing", "const":
            return longerThan(20) ? "too long" : nil
        case "short_thing":
            return longerThan(5) ? "too long" : nil
        case "number":
            let parts = value.split(separator: ".", omittingEmptySubsequences: false)
            let digits = parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } } && parts.count <= 2
            return !digits ? "not a number" : longerThan(32) ? "too long" : nil
        case "letter":
            return !characters.allSatisfy({ $0.isASCII && $0.isLetter }) ? "not letters" : longerThan(32) ? "too long" : nil
        case "symbol":
            return !characters.allSatisfy(isSymbol) ? "not symbols" : longerThan(5) ? "too long" : nil
        case "character_string":
            let allowed = characters.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || isSymbol($0)) }
            return !allowed ? "only digits, letters and symbols" : longerThan(32) ? "too long" : nil
        case "phone_number":
            return !characters.allSatisfy({ ($0.isASCII && $0.isNumber) || isSymbol($0) })
                ? "not a phone number" : longerThan(17) ? "too long" : nil
        case "car_number":
            return longerThan(8) ? "too long" : nil
        case "name":
            let chinese = characters.contains(where: isHan)
            return longerThan(chinese ? 10 : 20) ? "too long" : nil
        case "phrase":
            return !characters.allSatisfy(isHan) ? "not Chinese" : longerThan(5) ? "too long" : nil
        case "amount":
            return isAmount(value, digits: templateMessage ? 12 : 10) ? nil : "not an amount"
        case "time", "date":
            return value.isEmpty || !value.contains(where: { $0.isNumber }) || longerThan(64) ? "not a \(type)" : nil
        default:
            return nil
        }
    }

    /// Printable ASCII punctuation (no letters, digits, spaces or control characters).
    private static func isSymbol(_ character: Character) -> Bool {
        character.isASCII && !character.isLetter && !character.isNumber && !character.isWhitespace
            && character.asciiValue.map { $0 >= 0x21 && $0 <= 0x7E } == true
    }

    private static func isHan(_ character: Character) -> Bool {
        character.unicodeScalars.allSatisfy { (0x4E00...0x9FFF).contains($0.value) || (0x3400...0x4DBF).contains($0.value) }
    }

    /// An optional currency sign, up to `digits` digits with an optional decimal part, an optional 元.
    private static func isAmount(_ value: String, digits: Int) -> Bool {
        var text = Substring(value)
        if let first = text.first, "¥￥$€£".contains(first) { text = text.dropFirst() }
        if text.hasSuffix("元") { text = text.dropLast() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }) else {
            return false
        }
        return parts[0].count <= digits
    }
}
