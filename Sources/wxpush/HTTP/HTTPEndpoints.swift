import Dispatcher
import Hummingbird
import Kafka
import Logging
import Metrics
import Prometheus
import Synchronization

/// The routes of `wxpush run`'s HTTP server: health, readiness, metrics, WeChat callbacks, the
/// intake and the operator routes. With `http.admin_port` they are split: the public port
/// serves the callbacks and the intake, the admin port the rest.
final class HTTPEndpoints: Sendable {
    enum Routes { case all, publicOnly, adminOnly }

    let readiness: Readiness
    let health: DispatcherHealth
    let stallTimeout: Duration
    let registry: PrometheusCollectorRegistry
    let consumer: KafkaConsumer
    let callbacks: CallbackEndpoint
    let intake: NotificationIntake?
    let intakeToken: String?
    let limits: SendLimits
    let adminToken: String?
    private let lagGauges = Mutex<[TopicPartition: Metrics.Gauge]>([:])

    init(
        readiness: Readiness, health: DispatcherHealth, stallTimeout: Duration, registry: PrometheusCollectorRegistry,
        consumer: KafkaConsumer, callbacks: CallbackEndpoint, intake: NotificationIntake?, intakeToken: String?, limits: SendLimits,
        adminToken: String?
    ) {
        self.health = health
        self.stallTimeout = stallTimeout
        self.limits = limits
        self.adminToken = adminToken
        self.intake = intake
        self.intakeToken = intakeToken
        self.readiness = readiness
        self.registry = registry
        self.consumer = consumer
        self.callbacks = callbacks
    }

    func makeRouter(_ routes: Routes = .all) -> Router<BasicRequestContext> {
        let router = Router()
        if routes != .adminOnly { addPublicRoutes(router) }
        if routes != .publicOnly { addAdminRoutes(router) }
        return router
    }

    private func addPublicRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/wechat/callback/{account}") { request, context in
            self.callbacks.verify(request, account: context.parameters.get("account") ?? "")
        }
        router.post("/wechat/callback/{account}") { request, context in
            await self.callbacks.receive(request, account: context.parameters.get("account") ?? "")
        }
        router.post("/v1/notifications") { request, _ in await self.notifications(request) }
    }

    private func addAdminRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in self.liveness() }
        router.get("/readyz") { _, _ in
            let report = await self.readiness.check()
            return Response(
                status: report.isReady ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: report.json)))
        }
        router.get("/metrics") { request, _ in
            // Public unless an operator token is set: then scrapers send it (Prometheus `authorization`).
            if let adminToken = self.adminToken, !Self.bearer(request, is: adminToken) {
                return Self.json(401, #"{"error":"missing or wrong bearer token (http.admin_token)"}"#)
            }
            self.updateLag()
            self.updateLimits()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(
                    byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer() + Array(ScrapeMetrics.text(consumer: self.consumer).utf8))))
        }
        router.post("/v1/accounts/{account}/quota/reset") { request, context in
            self.resetQuota(request, account: context.parameters.get("account") ?? "")
        }
    }

    /// 503 while a partition has had sends in flight for `stallTimeout` with none ending: the
    /// process is wedged, and a restart redelivers what it holds. Waiting on a limit, a quota or
    /// a backoff holds no send and is no stall.
    private func liveness() -> Response {
        let stalled = health.stalled(after: stallTimeout)
        guard !stalled.isEmpty else { return Self.text("ok\n") }
        let names = stalled.map { "\($0.partition) (\($0.for.components.seconds) s)" }.sorted().joined(separator: ", ")
        return Self.json(503, #"{"error":"sends in flight with none ending for over \#(stallTimeout): \#(names)"}"#)
    }

    private func notifications(_ request: Request) async -> Response {
        guard let intake, let intakeToken else {
            return Self.json(404, #"{"error":"the intake is off: set http.intake_token (or WXPUSH_INTAKE_TOKEN)"}"#)
        }
        guard Self.bearer(request, is: intakeToken) else {
            Counter(label: "wxpush_intake_requests_total", dimensions: [("result", "unauthorized")]).increment()
            return Self.json(401, #"{"error":"missing or wrong bearer token"}"#)
        }
        guard let body = try? await request.body.collect(upTo: NotificationIntake.maxBodyBytes) else {
            return Self.json(413, #"{"error":"the body is over 8 MiB"}"#)
        }
        // The caller's trace (W3C traceparent, else x-request-id) goes on with each record.
        let trace = ["traceparent", "x-request-id"].lazy.compactMap { name in
            request.headers.first { $0.name.canonicalName == name }.map { KafkaHeader(name: name, string: $0.value) }
        }.first
        let (status, json) = await intake.accept(Array(body.readableBytesView), trace: trace).response
        Counter(label: "wxpush_intake_requests_total", dimensions: [("result", String(status))]).increment()
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// An operator cleared the account's quota wait (after WeChat's `clear_quota`, or a raised
    /// quota). This instance only: call it on each instance.
    private func resetQuota(_ request: Request, account: String) -> Response {
        guard let adminToken else {
            return Self.json(404, #"{"error":"operator endpoints are off: set http.admin_token (or WXPUSH_ADMIN_TOKEN)"}"#)
        }
        guard Self.bearer(request, is: adminToken) else { return Self.json(401, #"{"error":"missing or wrong bearer token"}"#) }
        guard readiness.accounts.contains(account) else { return Self.json(404, #"{"error":"no such account"}"#) }
        limits.resetQuota(account: account)
        return Self.json(200, #"{"reset":"\#(account)","scope":"this instance"}"#)
    }

    /// `Authorization: Bearer <token>`, compared in constant time.
    private static func bearer(_ request: Request, is token: String) -> Bool {
        let given = request.headers[.authorization].map { Array($0.utf8) } ?? []
        let expected = Array("Bearer \(token)".utf8)
        return given.count == expected.count && zip(given, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0
    }

    private static func json(_ status: Int, _ body: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body + "\n")))
    }

    /// `wxpush_consumer_lag{topic,partition}` for the partitions assigned now; gauges of
    /// partitions given up are removed.
    private func updateLag() {
        let lags = consumer.cachedLag()
        lagGauges.withLock { gauges in
            for (partition, gauge) in gauges where lags[partition] == nil {
                gauge.destroy()
                gauges[partition] = nil
            }
            for (partition, lag) in lags {
                guard let lag else { continue }
                let gauge =
                    gauges[partition]
                    ?? Metrics.Gauge(
                        label: "wxpush_consumer_lag", dimensions: [("topic", partition.topic), ("partition", String(partition.partition))])
                gauges[partition] = gauge
                gauge.record(lag)
            }
        }
    }

    /// Per limited account: this instance's share, its rate, the quota used here today and its
    /// budget; per account: whether its circuit is open (1) or closed (0).
    private func updateLimits() {
        for (account, open) in limits.circuitsOpen {
            Metrics.Gauge(label: "wxpush_circuit_open", dimensions: [("account", account)]).record(open ? 1 : 0)
        }
        for account in limits.snapshot {
            let labels = [("account", account.account)]
            Metrics.Gauge(label: "wxpush_limit_share", dimensions: labels).record(account.share)
            if let rate = account.ratePerSecond { Metrics.Gauge(label: "wxpush_limit_rate_per_second", dimensions: labels).record(rate) }
            Metrics.Gauge(label: "wxpush_quota_used_today", dimensions: labels).record(account.usedToday)
            if let budget = account.dailyBudget { Metrics.Gauge(label: "wxpush_quota_budget_today", dimensions: labels).record(budget) }
        }
    }

    private static func text(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
