import Foundation

/// Checks and opens what WeChat posts to an account's callback URL, and seals what the simulator
/// posts: plaintext mode (`signature` over token, timestamp, nonce) or safe mode (`msg_signature`
/// over those and the `Encrypt` text, then AES with the AppId checked).
public struct CallbackAuthenticator: Sendable {
    private let token: String
    private let cipher: CallbackCipher?
    /// How far a callback's timestamp may be from now (replays of old callbacks are refused);
    /// nil: not checked.
    private let maxSkew: Duration?
    /// Plaintext mode: one signature, one body (`ReplayGuard`).
    private let replays: ReplayGuard

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missing(String)
        case badSignature
        case stale
        case malformed
        case encryptedOnly
        case replayed
        case cipher(CallbackCipher.Failure)

        public var description: String {
            switch self {
            case .missing(let name): "the query has no \(name)"
            case .badSignature: "the signature does not match the account's token"
            case .stale: "the timestamp is too far from now"
            case .malformed: "the body is not a WeChat XML message"
            case .encryptedOnly: "the account is configured for safe mode; a plaintext callback is refused"
            case .replayed: "the signature came before with another body (a replayed query; safe mode signs the body)"
            case .cipher(let failure): "\(failure)"
            }
        }
    }

    /// `cipher` set: safe mode, and plaintext callbacks are refused (a forger must not downgrade).
    public init(token: String, cipher: CallbackCipher?, maxSkew: Duration? = .seconds(300)) {
        self.token = token
        self.cipher = cipher
        self.maxSkew = maxSkew
        self.replays = ReplayGuard(window: maxSkew ?? .seconds(300))
    }

    /// URL verification (GET): the `echostr` to answer with when the signature matches.
    public func verifyURL(_ query: [String: String], now: Date = Date()) throws(Refusal) -> String {
        let (timestamp, nonce) = try stamp(query, now: now)
        guard let echostr = query["echostr"] else { throw .missing("echostr") }
        guard let signature = query["signature"] else { throw .missing("signature") }
        guard CallbackSignature.matches(signature, [token, timestamp, nonce]) else { throw .badSignature }
        return echostr
    }

    /// A POSTed callback, checked and (in safe mode) decrypted.
    public func open(_ query: [String: String], body: String, now: Date = Date()) throws(Refusal) -> CallbackMessage {
        let (timestamp, nonce) = try stamp(query, now: now)
        guard let envelope = CallbackMessage(xml: body) else { throw .malformed }
        if let cipher {
            guard query["encrypt_type"] == "aes", let encrypted = envelope["Encrypt"] else { throw .encryptedOnly }
            guard let signature = query["msg_signature"] else { throw .missing("msg_signature") }
            guard CallbackSignature.matches(signature, [token, timestamp, nonce, encrypted]) else { throw .badSignature }
            let plain: String
            do { plain = try cipher.decrypt(encrypted) } catch { throw .cipher(error) }
            guard let message = CallbackMessage(xml: plain) else { throw .malformed }
            return message
        }
        guard let signature = query["signature"] else { throw .missing("signature") }
        guard CallbackSignature.matches(signature, [token, timestamp, nonce]) else { throw .badSignature }
        guard replays.admit(signature: signature, body: body, now: now) else { throw .replayed }
        return envelope
    }

    /// The query and body WeChat would post for `message` (the simulator's receipts).
    public func seal(_ message: CallbackMessage, now: Date = Date()) -> (query: [String: String], body: String) {
        let timestamp = String(Int64(now.timeIntervalSince1970))
        let nonce = String(UInt32.random(in: 100_000_000...UInt32.max))
        var query = ["timestamp": timestamp, "nonce": nonce, "signature": CallbackSignature.make([token, timestamp, nonce])]
        guard let cipher else { return (query, message.xml) }
        let encrypted = cipher.encrypt(message.xml)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = CallbackSignature.make([token, timestamp, nonce, encrypted])
        let envelope = CallbackMessage(fields: ["ToUserName": message["ToUserName"] ?? "", "Encrypt": encrypted])
        return (query, envelope.xml)
    }

    private func stamp(_ query: [String: String], now: Date) throws(Refusal) -> (String, String) {
        guard let timestamp = query["timestamp"] else { throw .missing("timestamp") }
        guard let nonce = query["nonce"] else { throw .missing("nonce") }
        if let maxSkew {
            guard let seconds = Double(timestamp), abs(now.timeIntervalSince1970 - seconds) <= Double(maxSkew.components.seconds)
            else { throw .stale }
        }
        return (timestamp, nonce)
    }
}
