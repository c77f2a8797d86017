/// Why bytes are not JSON, with the byte offset where reading stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var problem: String

    public var description: String { "\(problem) at byte \(offset)" }
}

extension JSONValue {
    /// Nesting beyond this is refused, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 64

    /// Parses one JSON text (RFC 8259) in a single pass; surrounding whitespace is allowed.
    public init(parsing bytes: [UInt8]) throws(JSONSyntaxError) {
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONValue in
            var parser = JSONParser(buffer)
            return try parser.document()
        }
    }

    public init(parsing bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) {
        var parser = JSONParser(bytes.assumingMemoryBound(to: UInt8.self))
        self = try parser.document()
    }
}

private struct JSONParser {
    let input: UnsafeBufferPointer<UInt8>
    var position = 0
    var depth = 0

    init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        let value = try self.value()
        skipWhitespace()
        guard position == input.count else { throw failure("unexpected text after the JSON value") }
        return value
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard position < input.count else { throw failure("unexpected end of input") }
        switch input[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var fields: [String: JSONValue] = [:]
        skipWhitespace()
        if peek(UInt8(ascii: "}")) {
            position += 1
            depth -= 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw failure("expected a member name in quotes") }
            let name = try string()
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw failure("expected ':' after a member name") }
            position += 1
            fields[name] = try value()
            skipWhitespace()
            guard position < input.count else { throw failure("unterminated object") }
            let next = input[position]
            position += 1
            if next == UInt8(ascii: "}") { break }
            guard next == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or '}' in an object") }
        }
        depth -= 1
        return .object(fields)
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        position += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) {
            position += 1
            depth -= 1
            return .array(items)
        }
        while true {
            items.append(try value())
            skipWhitespace()
            guard position < input.count else { throw failure("unterminated array") }
            let next = input[position]
            position += 1
            if next == UInt8(ascii: "]") { break }
            guard next == UInt8(ascii: ",") else { position -= 1; throw failure("expected ',' or ']' in an array") }
        }
        depth -= 1
        return .array(items)
    }

    /// A string starting at the opening quote. Escape-free strings are copied in one step.
    private mutating func string() throws(JSONSyntaxError) -> String {
        position += 1
        let start = position
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let text = try validated(UnsafeBufferPointer(rebasing: input[start..<position]), at: start)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            if byte < 0x20 { throw failure("control character in a string") }
            position += 1
        }
        throw failure("unterminated string")
    }

    private mutating func escapedString(from start: Int) throws(JSONSyntaxError) -> String {
        var bytes = Array(UnsafeBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return try validated(bytes, at: start)
            case UInt8(ascii: "\\"):
                guard position < input.count else { break }
                let escape = input[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"): bytes.append(contentsOf: try unicodeEscape().utf8)
                default: position -= 1; throw failure("invalid escape in a string")
                }
            case 0..<0x20:
                position -= 1
                throw failure("control character in a string")
            default:
                bytes.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    /// `\uXXXX` after the `u`, joining surrogate pairs; a lone surrogate is an error.
    private mutating func unicodeEscape() throws(JSONSyntaxError) -> String {
        let first = try hex4()
        if (0xD800..<0xDC00).contains(first), input.count - position >= 6, input[position] == UInt8(ascii: "\\"),
            input[position + 1] == UInt8(ascii: "u")
        {
            let saved = position
            position += 2
            let second = try hex4()
            if (0xDC00..<0xE000).contains(second) {
                let scalar = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                return String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}")
            }
            position = saved
        }
        guard let scalar = Unicode.Scalar(first) else { position -= 6; throw failure("lone surrogate in a \\u escape") }
        return String(Character(scalar))
    }

    /// Strings are UTF-8 exactly as sent: repairing them (U+FFFD) could make two distinct ids equal.
    private func validated(_ bytes: some Collection<UInt8>, at start: Int) throws(JSONSyntaxError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw JSONSyntaxError(offset: start, problem: "invalid UTF-8 in a string")
        }
        return text
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard input.count - position >= 4 else { throw failure("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned as written.
    private mutating func number() throws(JSONSyntaxError) -> String {
        let start = position
        if peek(UInt8(ascii: "-")) { position += 1 }
        if peek(UInt8(ascii: "0")) {
            position += 1
        } else {
            guard digits() > 0 else { throw failure("invalid number") }
        }
        if peek(UInt8(ascii: ".")) {
            position += 1
            guard digits() > 0 else { throw failure("invalid number: digits expected after '.'") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            position += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { position += 1 }
            guard digits() > 0 else { throw failure("invalid number: digits expected in the exponent") }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: input[start..<position]), as: UTF8.self)
    }

    private mutating func digits() -> Int {
        let start = position
        while position < input.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(input[position]) { position += 1 }
        return position - start
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard input.count - position >= count else { throw failure("unexpected end of input") }
        for index in 0..<count where input[position + index] != word.utf8Start[index] {
            throw failure("unexpected character")
        }
        position += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= JSONValue.maximumDepth else { throw failure("nested deeper than \(JSONValue.maximumDepth) levels") }
    }

    private func peek(_ byte: UInt8) -> Bool { position < input.count && input[position] == byte }

    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private func failure(_ problem: String) -> JSONSyntaxError { JSONSyntaxError(offset: position, problem: problem) }
}
