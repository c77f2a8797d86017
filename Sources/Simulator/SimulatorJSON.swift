import Foundation
import Hummingbird

/// The simulator's HTTP answers. Send answers are written by hand: they are on the hot path and tiny.
enum SimulatorJSON {
    static let tooLarge = Response(status: .contentTooLarge)

    static func send(_ answer: SendAnswer) -> Response {
        switch answer {
        case .delivered(let msgid): json(#"{"errcode":0,"errmsg":"ok","msgid":\#(msgid)}"#)
        case .failed(let failure): self.failure(failure)
        case .http500: Response(status: .internalServerError)
        }
    }

    static func failure(_ failure: APIFailure) -> Response {
        json(#"{"errcode":\#(failure.errcode),"errmsg":"\#(escaped(failure.errmsg))"}"#)
    }

    static func grant(_ grant: TokenGrant) -> Response {
        switch grant {
        case .granted(let token, let expiresIn):
            json(#"{"access_token":"\#(escaped(token))","expires_in":\#(expiresIn)}"#)
        case .refused(let failure):
            self.failure(failure)
        }
    }

    static func stats(_ stats: SimulatorStats) throws -> Response {
        // Default date strategy, so a plain JSONDecoder reads it back into `SimulatorStats`.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(stats)))
        )
    }

    private static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }

    /// JSON string escaping for errmsgs that quote user data (47003 names the field and value).
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
