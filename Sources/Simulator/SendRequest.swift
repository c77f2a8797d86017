import JSON
import WeChat

/// The fields of a send body the simulator looks at; everything else is accepted and ignored.
struct SendRequest {
    var touser: String?
    var template_id: String?
    var client_msg_id: String?
    /// Each `data` entry's `value`.
    var values: [String: String]

    /// Nil when the body is not JSON or a field the simulator reads has the wrong type (47001).
    init?(body: [UInt8]) {
        guard case .object(let fields)? = try? JSONValue(parsing: body) else { return nil }
        func text(_ name: String) -> String?? {
            switch fields[name] {
            case nil, .null?: return .some(nil)
            case .string(let value)?: return value
            default: return nil
            }
        }
        guard let touser = text("touser"), let templateID = text("template_id"), let clientMsgID = text("client_msg_id") else { return nil }
        var values: [String: String] = [:]
        switch fields["data"] {
        case nil, .null?: break
        case .object(let entries)?:
            for (key, entry) in entries {
                switch entry {
                case .object(let parts):
                    switch parts["value"] {
                    case nil, .null?: values[key] = ""
                    case .string(let value)?: values[key] = value
                    default: return nil
                    }
                case .null: values[key] = ""
                default: return nil
                }
            }
        default: return nil
        }
        self.touser = touser
        self.template_id = templateID
        self.client_msg_id = clientMsgID
        self.values = values
    }
}

/// The answer to a send, before it becomes HTTP.
enum SendAnswer: Equatable {
    case delivered(msgid: Int64)
    case failed(APIFailure)
    case http500
}

/// The faults drawn for one send request, decided up front under the lock and acted on outside it.
struct SendPlan {
    var delay: Duration
    var hang: Duration?
    /// Set when the answer is known before looking at the body (token problem or injected fault).
    var earlyAnswer: SendAnswer?
    /// The appid owning the token, when the token is valid.
    var appID: String?
}
