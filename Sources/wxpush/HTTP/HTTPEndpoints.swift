import Dispatcher
import Hummingbird
import Kafka
import Logging
import Metrics
import Prometheus
import Synchronization

/// The routes of `wxpush run`'s HTTP server: health, readiness, metrics, WeChat callbacks.
final class HTTPEndpoints: Sendable {
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let consumer: KafkaConsumer
    let callbacks: CallbackEndpoint
    let intake: NotificationIntake?
    let intakeToken: String?
    private let lagGauges = Mutex<[TopicPartition: Metrics.Gauge]>([:])

    init(
        readiness: Readiness, registry: PrometheusCollectorRegistry, consumer: KafkaConsumer, callbacks: CallbackEndpoint,
        intake: NotificationIntake?, intakeToken: String?
    ) {
        self.intake = intake
        self.intakeToken = intakeToken
        self.readiness = readiness
        self.registry = registry
        self.consumer = consumer
        self.callbacks = callbacks
    }

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in Self.text("ok\n") }
        router.get("/readyz") { _, _ in
            let report = await self.readiness.check()
            return Response(
                status: report.isReady ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: report.json)))
        }
        router.get("/metrics") { _, _ in
            self.updateLag()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: self.registry.emitToBuffer())))
        }
        router.get("/wechat/callback/{account}") { request, context in
            self.callbacks.verify(request, account: context.parameters.get("account") ?? "")
        }
        router.post("/wechat/callback/{account}") { request, context in
            await self.callbacks.receive(request, account: context.parameters.get("account") ?? "")
        }
        router.post("/v1/notifications") { request, _ in await self.notifications(request) }
        return router
    }

    private func notifications(_ request: Request) async -> Response {
        guard let intake, let intakeToken else {
            return Self.json(404, #"{"error":"the intake is off: set http.intake_token (or WXPUSH_INTAKE_TOKEN)"}"#)
        }
        let given = request.headers[.authorization].map { Array($0.utf8) } ?? []
        let expected = Array("Bearer \(intakeToken)".utf8)
        guard given.count == expected.count, zip(given, expected).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else {
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

    private static func text(_ body: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
