import Crypto

/// WeChat's callback signatures: the hex SHA-1 of the parts sorted lexicographically and joined
/// (`[token, timestamp, nonce]` for `signature`, plus the `Encrypt` text for `msg_signature`).
public enum CallbackSignature {
    public static func make(_ parts: [String]) -> String {
        let joined = parts.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.joined()
        return Insecure.SHA1.hash(data: Array(joined.utf8)).map { hex($0) }.joined()
    }

    /// Compares in time independent of where the strings differ.
    public static func matches(_ signature: String, _ parts: [String]) -> Bool {
        let expected = Array(make(parts).utf8)
        let given = Array(signature.lowercased().utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }
}
