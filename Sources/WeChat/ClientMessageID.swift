import Crypto

/// Derives WeChat's `client_msg_id` from an event id, so a retry after a crash is the same message.
public enum ClientMessageID {
    /// The first 32 lowercase hex characters of SHA-256(id): stable, ASCII and within the
    /// (unconfirmed) length limit whatever the event id looks like.
    public static func derive(fromEventID id: String) -> String {
        let digest = SHA256.hash(data: Array(id.utf8))
        var hex: [UInt8] = []
        hex.reserveCapacity(32)
        for byte in digest.prefix(16) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
