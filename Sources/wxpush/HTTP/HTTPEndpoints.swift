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
    private let lagGauges = Mutex<[TopicPartition: Metrics.Gauge]>([:])

    init(readiness: Readiness, registry: PrometheusCollectorRegistry, consumer: KafkaConsumer, callbacks: CallbackEndpoint) {
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
        return router
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
