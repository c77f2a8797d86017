import Dispatcher
import Hummingbird
import Kafka
import Logging
import Prometheus
import ServiceLifecycle

/// The HTTP server inside `wxpush run`: a Hummingbird application, one more service of the group.
enum HTTPServer {
    static func make(
        settings: HTTPSettings, endpoints: HTTPEndpoints, logger: Logger
    ) -> some Service {
        var serverLogger = logger
        // Hummingbird logs each connection and request at debug/info: keep those out of the service log.
        serverLogger.logLevel = max(logger.logLevel, .warning)
        return Application(
            router: endpoints.makeRouter(),
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "wxpush"),
            onServerRunning: { channel in
                logger.notice("HTTP listening", metadata: ["address": "\(channel.localAddress?.description ?? "?")"])
            },
            logger: serverLogger
        )
    }
}
