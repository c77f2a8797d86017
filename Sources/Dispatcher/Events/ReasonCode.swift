/// Why an outcome is what it is, as a closed set analytics can group by (`reason_code`); the
/// outcome's `reason` keeps the detail. New codes may be added within v1; none changes meaning.
public enum ReasonCode: String, Sendable, CaseIterable {
    /// Not a request event (not JSON, a missing or wrong-typed field).
    case invalidEvent = "invalid_event"
    /// `app` names no configured WeChat account.
    case unknownApp = "unknown_app"
    /// No rule for the event's `type`.
    case unknownType = "unknown_type"
    /// The rule uses a variable the event's `data` lacks.
    case missingVariable = "missing_variable"
    /// A rendered value breaks its field's limits (`overflow: reject`, or not truncatable).
    case fieldInvalid = "field_invalid"
    /// Over its rule's per-recipient throttle (`on_excess: reject`).
    case recipientThrottled = "recipient_throttled"
    /// `expires_at` passed before it could be sent.
    case expired
    /// WeChat answered an errcode that retrying cannot fix (the errcode is in `errcode`).
    case errcodeTerminal = "errcode_terminal"
    /// The account's AppID or AppSecret is wrong (40013, 40125…).
    case accountMisconfigured = "account_misconfigured"
    /// Retryable failures outlasted `retry.max_attempts` or `retry.deadline`.
    case retriesExhausted = "retries_exhausted"
    /// Written to WeChat without an answer, and a resend could deliver it twice.
    case fateUnknown = "fate_unknown"
    /// WeChat accepted this id before (the sent log); `msgid` is the first send's.
    case alreadySent = "already_sent"
    /// The recipient left or refused (the recipients topic): no WeChat call was made.
    case suppressed
    /// The template is not in the account's library, or WeChat answered 40037 for it: no call
    /// (or that one call) was made; a DLQ copy waits for the template to be fixed.
    case templateMissing = "template_missing"
}
