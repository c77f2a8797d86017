import Crypto

/// Derives WeChat's `client_msg_id` from an event id, so a retry after a crash is the same message.
public enum ClientMessageID {
    /// The first 32 lowercase hex characters of SHA-256(id): stable, ASCII and within the
    /// (unconfirmed) length limit whatever the event id looks like.
    public static func derive(fromEventID id: String) -> String {
        let digest = SHA256.hash(data: Array(id.utf8))
        var hex = ""
        hex.reserveCapacity(32)
        for byte in digest.prefix(16) {
            hex += byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }
        return hex
    }
}
