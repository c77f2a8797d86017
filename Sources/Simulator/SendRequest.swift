import WeChat

/// The fields of a send body the simulator looks at; everything else is accepted and ignored.
struct SendRequest: Decodable {
    var touser: String?
    var template_id: String?
    var client_msg_id: String?
    var data: [String: DataValue]?

    struct DataValue: Decodable {
        var value: String?
    }

    var values: [String: String] {
        (data ?? [:]).mapValues { $0.value ?? "" }
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
