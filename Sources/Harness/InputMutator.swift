/// Seeded mutations of valid inputs, for the fuzz suites: one to five edits each (a byte
/// flipped, inserted or deleted, an edge token spliced in, a run duplicated, a cut), the same for
/// the same seed on every run so any finding can be replayed.
public struct InputMutator: Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed | 1 }

    /// xorshift64*.
    private mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }

    private mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(1, bound))) }

    /// Tokens a parser meets at its edges: extremes, other types, broken UTF-8 and markup.
    static let splices: [[UInt8]] =
        [
            "9223372036854775807", "-9223372036854775808", "4611686018427387904", "1e300", "-1", "NaN", "inf", "null", "true", "[]",
            "{}", "\"\"", "\"\\u0000\"", "\\", "\"", "<", ">", "</xml>", "<![CDATA[", "]]>", "&amp;", ",", ":", "|s", "-", " ",
            "\t", "\n", "- ", "{ ", "*anchor", "&anchor", "!!binary", String(repeating: "9", count: 40),
            String(repeating: "a", count: 5_000), String(repeating: "[", count: 300), String(repeating: "<a>", count: 100),
        ].map { Array($0.utf8) } + [[0xC3, 0x28], [0xFF, 0xFE], [0]]

    public mutating func mutate(_ seed: [UInt8]) -> [UInt8] {
        var bytes = seed
        for _ in 0...below(4) {
            let at = bytes.isEmpty ? 0 : below(bytes.count)
            switch below(6) {
            case 0 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: next())
            case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + 1 + below(8)))
            case 3: bytes.insert(contentsOf: Self.splices[below(Self.splices.count)], at: at)
            case 4 where !bytes.isEmpty: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + below(64))], at: at)
            default: bytes = Array(bytes.prefix(at))
            }
        }
        return bytes
    }

    public mutating func mutate(_ text: String) -> String { String(decoding: mutate(Array(text.utf8)), as: UTF8.self) }
}
