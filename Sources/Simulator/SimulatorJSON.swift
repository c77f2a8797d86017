import Foundation
import Hummingbird
import JSON

/// The simulator's HTTP answers, written with `JSONWriter`: they are on the hot path and tiny.
enum SimulatorJSON {
    static let tooLarge = Response(status: .contentTooLarge)

    static func send(_ answer: SendAnswer) -> Response {
        switch answer {
        case .delivered(let msgid):
            json { out in
                out.field("errcode", number: 0)
                out.field("errmsg", "ok")
                out.field("msgid", number: msgid)
            }
        case .failed(let failure): self.failure(failure)
        case .http500: Response(status: .internalServerError)
        }
    }

    static func failure(_ failure: APIFailure) -> Response {
        json { out in
            out.field("errcode", number: Int64(failure.errcode))
            out.field("errmsg", failure.errmsg)
        }
    }

    static func quota(dailyLimit: Int, used: Int) -> Response {
        json { out in
            out.field("errcode", number: 0)
            out.field("errmsg", "ok")
            out.key("quota")
            out.object {
                $0.field("daily_limit", number: Int64(clamping: dailyLimit))
                $0.field("used", number: Int64(used))
                $0.field("remain", number: Int64(clamping: max(0, dailyLimit - used)))
            }
        }
    }

    /// A template library in WeChat's shape: `template_list` for template messages, `data` (with
    /// `errcode` 0) for subscribe messages.
    static func templates(_ templates: [SimulatedTemplate], subscribe: Bool) -> Response {
        let list = JSONValue.array(
            templates.map { template in
                subscribe
                    ? .object([
                        "priTmplId": .string(template.id), "title": .string(template.title), "content": .string(template.content),
                        "example": .string(""), "type": .number("2"), "keywordEnumValueList": .array([]),
                    ])
                    : .object([
                        "template_id": .string(template.id), "title": .string(template.title), "primary_industry": .string(""),
                        "deputy_industry": .string(""), "content": .string(template.content), "example": .string(""),
                    ])
            })
        return json { out in
            if subscribe {
                out.field("errcode", number: 0)
                out.field("errmsg", "ok")
            }
            out.key(subscribe ? "data" : "template_list")
            out.value(list)
        }
    }

    static func grant(_ grant: TokenGrant) -> Response {
        switch grant {
        case .granted(let token, let expiresIn):
            json { out in
                out.field("access_token", token)
                out.field("expires_in", number: Int64(expiresIn))
            }
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

    private static func json(_ fields: (inout JSONWriter) -> Void) -> Response {
        var out = JSONWriter(capacity: 96)
        out.object(fields)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: out.bytes))
        )
    }
}
