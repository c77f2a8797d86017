import JSON

extension OutgoingMessage {
    /// The request body for this message's kind, per wechat-api.md; nil fields are omitted and
    /// keys are sorted, so equal messages give equal bytes.
    ///
    /// Each kind carries only the fields its API documents (a template message has no `page`,
    /// a bizsend has no `url`), so a field set for another kind never confuses WeChat.
    public func jsonBody() -> [UInt8] {
        var out = JSONWriter(capacity: 256)
        out.object { out in
            out.optionalField("client_msg_id", clientMsgID.isEmpty ? nil : clientMsgID)
            out.key("data")
            out.object { out in
                for (key, field) in data.sorted(by: { $0.key < $1.key }) {
                    out.key(key)
                    out.object { out in
                        out.optionalField("color", kind == .template ? field.color : nil)
                        out.field("value", field.value)
                    }
                }
            }
            out.optionalField("lang", kind == .subscribe ? lang : nil)
            if kind != .subscribe, let miniProgram {
                out.key("miniprogram")
                out.object { out in
                    out.field("appid", miniProgram.appID)
                    out.field("pagepath", miniProgram.pagePath)
                }
            }
            out.optionalField("miniprogram_state", kind == .subscribe ? miniProgramState : nil)
            out.optionalField("page", kind == .template ? nil : page)
            out.field("template_id", templateID)
            out.field("touser", toUser)
            out.optionalField("url", kind == .template ? url : nil)
        }
        return out.bytes
    }
}
