import Foundation
import Waiting
import WeChat

extension SimulatorState {
    /// Checks the token and draws this request's faults; counts the request.
    mutating func plan(token: String?, now: ContinuousClock.Instant) -> SendPlan {
        stats.sendRequests += 1
        sendsInProgress += 1
        stats.maxConcurrentSends = max(stats.maxConcurrentSends, sendsInProgress)
        let config = configuration
        var plan = SendPlan(delay: config.latency + jitter(upTo: config.latencyJitter))
        defer {
            if let answer = plan.earlyAnswer {
                countError(of: answer)
            }
        }
        switch tokenOwner(token, now: now) {
        case .failure(let failure):
            plan.earlyAnswer = .failed(failure)
            return plan
        case .success(let appID):
            plan.appID = appID
        }
        if faults.chance(config.timeoutFraction) {
            plan.hang = config.hangDuration
        }
        if faults.chance(config.http500Fraction) {
            plan.earlyAnswer = .http500
        } else if faults.chance(config.busyFraction) {
            plan.earlyAnswer = .failed(APIFailure(errcode: -1, errmsg: "system error"))
        } else if faults.chance(config.tokenInvalidationFraction) {
            plan.earlyAnswer = .failed(.invalidToken)
        }
        return plan
    }

    /// Validates, de-duplicates, applies quotas and delivers one send.
    mutating func deliver(
        _ request: SendRequest, kind: MessageKind, appID: String, now: ContinuousClock.Instant, date: Date
    ) -> SendAnswer {
        let answer = deliverUncounted(request, kind: kind, appID: appID, now: now, date: date)
        countError(of: answer)
        return answer
    }

    mutating func countError(of answer: SendAnswer) {
        switch answer {
        case .delivered: break
        case .failed(let failure): stats.errorsByCode[String(failure.errcode), default: 0] += 1
        case .http500: stats.errorsByCode["http500", default: 0] += 1
        }
    }

    private mutating func deliverUncounted(
        _ request: SendRequest, kind: MessageKind, appID: String, now: ContinuousClock.Instant, date: Date
    ) -> SendAnswer {
        if let failure = Self.validate(request, kind: kind, templates: configuration.templates) {
            return .failed(failure)
        }
        let openid = request.touser ?? ""
        let clientMsgID = request.client_msg_id ?? ""
        let dedupKey = clientMsgID.isEmpty ? nil : openid + "\u{0}" + clientMsgID
        // Only template/send de-duplicates by client_msg_id (wechat-api.md); the subscribe kinds
        // deliver every request, and the key then only counts the duplicates a user would see.
        if kind == .template, let dedupKey,
            let msgid = recentSends.msgid(for: dedupKey, now: now, window: configuration.dedupWindow)
        {
            stats.suppressedDuplicates += 1
            return .delivered(msgid: msgid)
        }
        if let failure = useQuota(appID: appID, now: now, date: date) {
            return .failed(failure)
        }
        lastMsgID += 1
        let message = DeliveredMessage(
            openid: openid,
            clientMsgID: clientMsgID,
            templateID: request.template_id ?? "",
            kind: kind.rawValue,
            data: request.values,
            msgid: lastMsgID,
            receivedAt: date
        )
        stats.messagesByOpenID[openid, default: []].append(message)
        stats.delivered += 1
        if let dedupKey {
            recentSends.remember(dedupKey, msgid: lastMsgID, at: now)
            if !deliveredKeys.insert(dedupKey).inserted {
                stats.duplicates += 1
            }
        }
        return .delivered(msgid: lastMsgID)
    }

    /// The deterministic refusals tests rely on: openid prefixes, template ids (`bad…`, or not in
    /// the library when one is configured), typed fields by the simulator's own rules.
    static func validate(_ request: SendRequest, kind: MessageKind, templates: [SimulatedTemplate]?) -> APIFailure? {
        let openid = request.touser ?? ""
        if openid.isEmpty || openid.hasPrefix("invalid") {
            return APIFailure(errcode: 40003, errmsg: "invalid openid")
        }
        if openid.hasPrefix("unfollowed") {
            return APIFailure(errcode: 43004, errmsg: "require subscribe")
        }
        if openid.hasPrefix("refused") {
            return APIFailure(errcode: 43101, errmsg: "user refuse to accept the msg")
        }
        let templateID = request.template_id ?? ""
        let invalidTemplate = APIFailure(errcode: 40037, errmsg: "invalid template_id")
        if templateID.isEmpty || templateID.hasPrefix("bad") {
            return invalidTemplate
        }
        let subscribe = kind != .template
        guard let templates else {
            // No library: subscribe kinds' keywords are typed by their names.
            guard subscribe else { return nil }
            return typedRefusal(request.values.keys.sorted(), request, templateMessage: false)
        }
        guard let template = templates.first(where: { $0.id == templateID && $0.subscribe == subscribe }) else { return invalidTemplate }
        if subscribe, let missing = template.keywords.first(where: { (request.values[$0] ?? "").isEmpty }) {
            return APIFailure(errcode: 47003, errmsg: "argument invalid! data.\(missing).value is empty")
        }
        return typedRefusal(template.keywords.filter { request.values[$0] != nil }, request, templateMessage: !subscribe)
    }

    private static func typedRefusal(_ keywords: [String], _ request: SendRequest, templateMessage: Bool) -> APIFailure? {
        for keyword in keywords {
            if let refusal = SimulatedFieldRules.refusal(
                keyword: keyword, value: request.values[keyword] ?? "", templateMessage: templateMessage)
            {
                return APIFailure(errcode: 47003, errmsg: "argument invalid! data.\(keyword).value invalid (\(refusal))")
            }
        }
        return nil
    }

    /// Counts one delivery against the app's daily and per-minute quotas, unless one is used up.
    private mutating func useQuota(appID: String, now: ContinuousClock.Instant, date: Date) -> APIFailure? {
        var usage = apps[appID] ?? AppUsage()
        defer { apps[appID] = usage }
        if let dayStartedAt = usage.dayStartedAt, now - dayStartedAt < .seconds(86_400) {
            // Same quota day.
        } else {
            usage.dayStartedAt = now
            usage.deliveredToday = 0
        }
        let minute = Int64(date.timeIntervalSince1970 / 60)
        if usage.minute != minute {
            usage.minute = minute
            usage.deliveredThisMinute = 0
        }
        if usage.deliveredToday >= configuration.dailyQuota {
            return APIFailure(errcode: 45009, errmsg: "reach max api daily quota limit")
        }
        if let limit = configuration.perMinuteLimit, usage.deliveredThisMinute >= limit {
            return APIFailure(errcode: 45011, errmsg: "api minute-quota reach limit  mustslower  retry next minute")
        }
        if let rate = configuration.rateLimit {
            let elapsed = usage.rateRefilledAt.map { $0.duration(to: now).seconds } ?? 0
            let tokens = min(rate.burst, (usage.rateTokens ?? rate.burst) + elapsed * rate.perSecond)
            usage.rateRefilledAt = now
            guard tokens >= 1 else {
                usage.rateTokens = tokens
                return APIFailure(errcode: 45011, errmsg: "api freq out of limit")
            }
            usage.rateTokens = tokens - 1
        }
        usage.deliveredToday += 1
        usage.deliveredThisMinute += 1
        return nil
    }

    private mutating func jitter(upTo limit: Duration) -> Duration {
        guard limit > .zero else { return .zero }
        return limit * Double.random(in: 0...1, using: &faults)
    }

    /// The receipt owed for a fresh delivery, its status drawn from the configured shares.
    mutating func receipt(for request: SendRequest, msgid: Int64, appID: String) -> ReceiptSender.Pending? {
        guard let callbacks = configuration.receipts else { return nil }
        let draw = Double.random(in: 0..<1, using: &faults)
        let status: DeliveryReceipt.Status =
            draw < callbacks.blockedFraction
            ? .userBlocked : draw < callbacks.blockedFraction + callbacks.systemFailedFraction ? .systemFailed : .delivered
        let receipt = DeliveryReceipt(
            openid: request.touser ?? "", msgid: msgid, createTime: Int64(Date().timeIntervalSince1970), status: status,
            toUserName: "gh_" + appID)
        return ReceiptSender.Pending(receipt: receipt, appID: appID, callbacks: callbacks)
    }

    /// Deliveries of the app in the current quota day.
    func usedToday(appID: String, now: ContinuousClock.Instant) -> Int {
        guard let usage = apps[appID], let started = usage.dayStartedAt, now - started < .seconds(86_400) else { return 0 }
        return usage.deliveredToday
    }
}
