import Foundation
import Hummingbird
import WeChat

extension WeChatSimulator {
    /// Bodies above this are refused (WeChat's own bodies are a few KiB).
    static let maxBodyBytes = 1 << 20

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: OutageMiddleware(simulator: self))
        router.get("/health") { _, _ in HTTPResponse.Status.ok }
        router.get("/sim/stats") { _, _ in try SimulatorJSON.stats(self.stats) }
        router.get("/cgi-bin/token") { request, _ in self.classicToken(request) }
        router.post("/cgi-bin/stable_token") { request, _ in await self.stableToken(request) }
        router.get("/sim/central_token") { request, _ in self.centralToken(request) }
        router.post("/cgi-bin/openapi/quota/get") { request, _ in self.quota(request) }
        router.post("/cgi-bin/clear_quota") { request, _ in self.clearQuota(request) }
        router.get("/cgi-bin/template/get_all_private_template") { request, _ in self.templateLibrary(request, subscribe: false) }
        router.get("/wxaapi/newtmpl/gettemplate") { request, _ in self.templateLibrary(request, subscribe: true) }
        for kind in MessageKind.allCases {
            router.post(RouterPath(kind.path)) { request, _ in try await self.send(request, kind: kind) }
        }
        return router
    }

    private func classicToken(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        guard query["grant_type"] == "client_credential" else {
            return SimulatorJSON.failure(APIFailure(errcode: 40002, errmsg: "invalid grant_type"))
        }
        let appID = query["appid"].map(String.init) ?? ""
        let secret = query["secret"].map(String.init) ?? ""
        return SimulatorJSON.grant(state.withLock { $0.grantClassicToken(appID: appID, secret: secret, now: time.now) })
    }

    private func stableToken(_ request: Request) async -> Response {
        guard let body = await Self.body(of: request) else { return SimulatorJSON.tooLarge }
        guard let parsed = try? JSONDecoder().decode(StableTokenRequest.self, from: Data(body)) else {
            return SimulatorJSON.failure(APIFailure(errcode: 47001, errmsg: "data format error"))
        }
        guard parsed.grant_type == "client_credential" else {
            return SimulatorJSON.failure(APIFailure(errcode: 40002, errmsg: "invalid grant_type"))
        }
        let grant = state.withLock {
            $0.grantStableToken(
                appID: parsed.appid ?? "", secret: parsed.secret ?? "",
                forceRefresh: parsed.force_refresh ?? false, now: time.now)
        }
        return SimulatorJSON.grant(grant)
    }

    private func centralToken(_ request: Request) -> Response {
        let appID = request.uri.queryParameters["appid"].map(String.init) ?? ""
        return SimulatorJSON.grant(state.withLock { $0.grantCentralToken(appID: appID, now: time.now) })
    }

    /// `quota/get`: the token's app's daily limit, used and remaining (every kind together).
    private func quota(_ request: Request) -> Response {
        let token = request.uri.queryParameters["access_token"].map(String.init)
        return state.withLock { state in
            switch state.tokenOwner(token, now: time.now) {
            case .failure(let failure): return SimulatorJSON.failure(failure)
            case .success(let appID):
                let limit = state.configuration.dailyQuota
                let used = state.usedToday(appID: appID, now: time.now)
                return SimulatorJSON.quota(dailyLimit: limit, used: used)
            }
        }
    }

    /// `clear_quota`: the token's app's count starts over (WeChat allows 10 a month).
    private func clearQuota(_ request: Request) -> Response {
        let token = request.uri.queryParameters["access_token"].map(String.init)
        return state.withLock { state in
            switch state.tokenOwner(token, now: time.now) {
            case .failure(let failure): return SimulatorJSON.failure(failure)
            case .success(let appID):
                state.apps[appID, default: AppUsage()].deliveredToday = 0
                return SimulatorJSON.failure(APIFailure(errcode: 0, errmsg: "ok"))
            }
        }
    }

    /// The token's app's template library, in WeChat's two shapes; 48001 without a library.
    private func templateLibrary(_ request: Request, subscribe: Bool) -> Response {
        let token = request.uri.queryParameters["access_token"].map(String.init)
        return state.withLock { state in
            if case .failure(let failure) = state.tokenOwner(token, now: time.now) { return SimulatorJSON.failure(failure) }
            guard let templates = state.configuration.templates else {
                return SimulatorJSON.failure(APIFailure(errcode: 48001, errmsg: "api unauthorized"))
            }
            return SimulatorJSON.templates(templates.filter { $0.subscribe == subscribe }, subscribe: subscribe)
        }
    }

    /// Token check and fault draw under the lock, sleeps outside it, then delivery under the lock.
    private func send(_ request: Request, kind: MessageKind) async throws -> Response {
        let token = request.uri.queryParameters["access_token"].map(String.init)
        guard let body = await Self.body(of: request) else { return SimulatorJSON.tooLarge }
        let message = SendRequest(body: body)
        let plan = state.withLock { $0.plan(token: token, now: time.now) }
        defer { state.withLock { $0.sendsInProgress -= 1 } }
        if plan.delay > .zero {
            try await Task.sleep(for: plan.delay)
        }
        if let hang = plan.hang {
            try await hangUnlessStopping(for: hang)
        }
        if let answer = plan.earlyAnswer {
            return SimulatorJSON.send(answer)
        }
        let (answer, receipt) = state.withLock { state -> (SendAnswer, ReceiptSender.Pending?) in
            guard let message, let appID = plan.appID else {
                let failure = SendAnswer.failed(APIFailure(errcode: 47001, errmsg: "data format error"))
                state.countError(of: failure)
                return (failure, nil)
            }
            let before = state.stats.delivered
            let answer = state.deliver(message, kind: kind, appID: appID, now: time.now, date: time.date)
            // A fresh template delivery (not one answered from the de-duplication window) gets a
            // TEMPLATESENDJOBFINISH receipt; subscribe messages get none here.
            guard kind == .template, state.stats.delivered > before, case .delivered(let msgid) = answer else { return (answer, nil) }
            return (answer, state.receipt(for: message, msgid: msgid, appID: appID))
        }
        if let receipt { receiptSender.enqueue(receipt) }
        return SimulatorJSON.send(answer)
    }

    /// Sleeps `duration` in short slices so a stopping simulator does not wait out a 30 s hang.
    private func hangUnlessStopping(for duration: Duration) async throws {
        let deadline = ContinuousClock.now + duration
        while !stopping.load(ordering: .relaxed), ContinuousClock.now < deadline {
            try await Task.sleep(for: min(.milliseconds(100), ContinuousClock.now.duration(to: deadline)))
        }
    }

    /// The request body, or nil when it is larger than `maxBodyBytes`.
    private static func body(of request: Request) async -> [UInt8]? {
        guard let buffer = try? await request.body.collect(upTo: maxBodyBytes) else { return nil }
        return Array(buffer.readableBytesView)
    }
}

private struct StableTokenRequest: Decodable {
    var grant_type: String?
    var appid: String?
    var secret: String?
    var force_refresh: Bool?
}

/// While `unavailable` is set, the WeChat endpoints answer 503 (the simulator's own stay up).
struct OutageMiddleware: RouterMiddleware {
    let simulator: WeChatSimulator

    func handle(
        _ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response
    ) async throws -> Response {
        if request.uri.path.hasPrefix("/cgi-bin/"), simulator.state.withLock({ $0.configuration.unavailable }) {
            return Response(status: .serviceUnavailable)
        }
        return try await next(request, context)
    }
}
