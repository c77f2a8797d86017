import Crypto
import Foundation
import _CryptoExtras

/// WeChat's safe mode (wechat-api.md): AES-256-CBC with the key from the 43-character
/// EncodingAESKey, IV = the key's first 16 bytes, PKCS#7 padding to a multiple of 32 bytes.
/// Plaintext = 16 random bytes, the message length (4 bytes, big-endian), the message, the AppId.
public struct CallbackCipher: Sendable {
    /// The raw key (SymmetricKey is not Sendable); never logged.
    private let keyBytes: [UInt8]
    /// The AppId every decrypted message must end with.
    public let appID: String

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case badKey, notBase64, badCiphertext, badPadding, badLength, wrongAppID

        public var description: String {
            switch self {
            case .badKey: "the EncodingAESKey is not 43 characters of base64"
            case .notBase64: "Encrypt is not base64"
            case .badCiphertext: "Encrypt does not decrypt (not a multiple of 16 bytes, or the wrong key)"
            case .badPadding: "the decrypted padding is invalid (the wrong key)"
            case .badLength: "the decrypted length field does not fit"
            case .wrongAppID: "the message is for another AppId"
            }
        }
    }

    /// `encodingAESKey` is the 43-character key from the account's console (never logged).
    public init(encodingAESKey: String, appID: String) throws(Failure) {
        guard encodingAESKey.utf8.count == 43, let bytes = Data(base64Encoded: encodingAESKey + "="), bytes.count == 32 else {
            throw .badKey
        }
        keyBytes = [UInt8](bytes)
        self.appID = appID
    }

    public func decrypt(_ encrypted: String) throws(Failure) -> String {
        guard let ciphertext = Data(base64Encoded: encrypted) else { throw .notBase64 }
        guard !ciphertext.isEmpty, ciphertext.count % 16 == 0,
            let iv = try? AES._CBC.IV(ivBytes: keyBytes.prefix(16)),
            let padded = try? AES._CBC.decrypt(ciphertext, using: SymmetricKey(data: keyBytes), iv: iv, noPadding: true)
        else { throw .badCiphertext }
        let plain = [UInt8](padded)
        guard let pad = plain.last, (1...32).contains(pad), Int(pad) <= plain.count,
            plain.suffix(Int(pad)).allSatisfy({ $0 == pad })
        else { throw .badPadding }
        let body = plain.dropLast(Int(pad))
        guard body.count >= 20 else { throw .badLength }
        let lengthBytes = body.dropFirst(16).prefix(4)
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        guard length <= body.count - 20 else { throw .badLength }
        let message = body.dropFirst(20).prefix(length)
        let trailer = body.dropFirst(20 + length)
        guard Array(trailer) == Array(appID.utf8) else { throw .wrongAppID }
        return String(decoding: message, as: UTF8.self)
    }

    /// `random` is 16 bytes (fixed only in tests, to compare with published vectors).
    public func encrypt(_ message: String, random: [UInt8]? = nil) -> String {
        var plain = random ?? (0..<16).map { _ in UInt8.random(in: 0...255) }
        let bytes = Array(message.utf8)
        plain += withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init)
        plain += bytes + Array(appID.utf8)
        let pad = 32 - plain.count % 32
        plain += Array(repeating: UInt8(pad), count: pad)
        // The length is a multiple of the block size, so this cannot fail.
        let ciphertext =
            (try? AES._CBC.encrypt(
                plain, using: SymmetricKey(data: keyBytes), iv: AES._CBC.IV(ivBytes: keyBytes.prefix(16)), noPadding: true))
            ?? Data()
        return ciphertext.base64EncodedString()
    }
}
