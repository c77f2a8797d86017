import Foundation

extension OutgoingMessage {
    /// The request body for this message's kind, per wechat-api.md; nil fields are omitted.
    ///
    /// Each kind carries only the fields its API documents (a template message has no `page`,
    /// a bizsend has no `url`), so a field set for another kind never confuses WeChat.
    public func jsonBody() -> [UInt8] {
        let wire = WireMessage(
            touser: toUser,
            template_id: templateID,
            url: kind == .template ? url : nil,
            miniprogram: kind == .subscribe ? nil : miniProgram,
            page: kind == .template ? nil : page,
            miniprogram_state: kind == .subscribe ? miniProgramState : nil,
            lang: kind == .subscribe ? lang : nil,
            client_msg_id: clientMsgID.isEmpty ? nil : clientMsgID,
            data: data.mapValues { WireField(value: $0.value, color: kind == .template ? $0.color : nil) }
        )
        // Encoding plain strings and dictionaries cannot fail.
        return (try? Array(Self.encoder.encode(wire))) ?? []
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

// Field names are WeChat's; synthesized Codable skips nil optionals.
private struct WireMessage: Encodable {
    var touser: String
    var template_id: String
    var url: String?
    var miniprogram: MiniProgramLink?
    var page: String?
    var miniprogram_state: String?
    var lang: String?
    var client_msg_id: String?
    var data: [String: WireField]
}

private struct WireField: Encodable {
    var value: String
    var color: String?
}
