import Dispatcher
import Hummingbird
import Kafka
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// The HTTP server inside `wxpush run`: a Hummingbird application, one more service of the group.
enum HTTPServer {
    static func make(
        settings: HTTPSettings, port: Int, router: Router<BasicRequestContext>, logger: Logger
    ) -> some Service {
        var serverLogger = logger
        // Hummingbird logs each connection and request at debug/info: keep those out of the service log.
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let count = ConnectionGuard.Count(maxConnections: settings.maxConnections)
        func amount(_ duration: Duration) -> TimeAmount { .nanoseconds(Int64(duration / .nanoseconds(1))) }
        let header = amount(settings.headerTimeout)
        let body = amount(settings.bodyTimeout)
        let idle = amount(settings.idleTimeout)
        return Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [ConnectionGuard(count: count, headerTimeout: header, bodyTimeout: body, idleTimeout: idle)],
                    idleTimeout: idle)),
            configuration: .init(address: .hostname(settings.host, port: port), serverName: "wxpush"),
            onServerRunning: { channel in
                logger.notice("HTTP listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: serverLogger
        )
    }
}
