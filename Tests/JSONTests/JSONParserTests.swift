import Foundation
import JSON
import Testing

@Suite("JSON reader")
struct JSONParserTests {
    func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue { try JSONValue(parsing: Array(text.utf8)) }

    @Test("objects, arrays and scalars")
    func values() throws {
        let value = try parse(#" { "a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": {} , "f": [] } "#)
        #expect(
            value
                == .object([
                    "a": .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]),
                    "b": .object(["c": .string("d")]), "e": .object([:]), "f": .array([]),
                ]))
        #expect(value.value(at: "b.c") == .string("d"))
        #expect(value.value(at: "a.1") == .number("-2.5e3"))
        #expect(value.value(at: "a.9") == nil)
        #expect(value.value(at: "b.x") == nil)
    }

    @Test("numbers keep their text, so long ids survive")
    func numbers() throws {
        #expect(try parse("12345678901234567890") == .number("12345678901234567890"))
        #expect(try parse("0.10") == .number("0.10"))
        #expect(try parse("9007199254740993").int64 == 9_007_199_254_740_993)
        #expect(try parse("1.5").int64 == nil)
    }

    @Test("escapes, surrogate pairs and UTF-8 text")
    func strings() throws {
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude00""#) == .string("é中😀"))
        #expect(throws: JSONSyntaxError.self) { try parse(#""\ud83d x""#) }
        #expect(try parse("\"已发货 ✓\"") == .string("已发货 ✓"))
    }

    @Test(
        "malformed input names the problem and where",
        arguments: [
            ("", "unexpected end of input"),
            ("not json", "unexpected character"),
            (#"{"a":1,}"#, "expected a member name"),
            (#"{"a" 1}"#, "expected ':'"),
            (#"{"a":1 "b":2}"#, "expected ',' or '}'"),
            ("[1 2]", "expected ',' or ']'"),
            (#""abc"#, "unterminated string"),
            ("\"a\nb\"", "control character"),
            (#""\x""#, "invalid escape"),
            (#""\u12""#, #"short \u escape"#),
            ("01", "unexpected text after"),
            ("1.", "digits expected after '.'"),
            ("1e", "digits expected in the exponent"),
            ("-", "invalid number"),
            ("tru", "unexpected end of input"),
            ("nul1", "unexpected character"),
            ("{} {}", "unexpected text after"),
        ] as [(String, String)]
    )
    func malformed(text: String, problem: String) {
        #expect {
            try parse(text)
        } throws: { error in
            "\(error)".contains(problem)
        }
    }

    @Test("nesting deeper than the limit is refused instead of exhausting the stack")
    func depth() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONSyntaxError.self) { try parse(deep) }
        let limit = JSONValue.maximumDepth
        let allowed = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        _ = try parse(allowed)
    }

    @Test("agrees with JSONSerialization on a round trip of random documents")
    func agreesWithFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let value = randomValue(depth: 0, using: &generator)
            var writer = JSONWriter()
            writer.value(value)
            let reparsed = try JSONValue(parsing: writer.bytes)
            #expect(reparsed == value)
            let foundation = try JSONSerialization.jsonObject(with: Data(writer.bytes), options: .fragmentsAllowed)
            let again = try JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys, .fragmentsAllowed])
            #expect(try JSONValue(parsing: Array(again)).shape == value.shape)
        }
    }

    private func randomValue(depth: Int, using generator: inout SystemRandomNumberGenerator) -> JSONValue {
        switch Int.random(in: depth > 3 ? 0...3 : 0...5, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(String(Int64.random(in: -1_000_000...1_000_000, using: &generator)))
        case 3:
            let alphabet = Array("ab\"\\\n\t\u{01}é中😀/ ")
            return .string(String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var fields: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0...4, using: &generator) {
                fields["k\(index)"] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(fields)
        }
    }
}

extension JSONValue {
    /// Strings and structure, with numbers compared by value (Foundation rewrites their text).
    fileprivate var shape: String {
        switch self {
        case .number(let literal): return "n\(Double(literal)!)"
        case .string(let text): return "s\(text)"
        case .bool(let flag): return "b\(flag)"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.shape).joined(separator: ",") + "]"
        case .object(let fields):
            return "{" + fields.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.shape)" }.joined(separator: ",") + "}"
        }
    }
}
