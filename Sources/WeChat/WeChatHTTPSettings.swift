import AsyncHTTPClient

/// How the process's HTTP client reaches WeChat (`wechat.connect_timeout`, `request_timeout`,
/// `max_connections`, `idle_timeout`). The same for WeChat's HTTPS behind load balancers and a
/// plain local server: short connects (a connect that fails is always safe to retry), an
/// exchange bounded from its turn in the send window (never shortened by the wait for it), and
/// idle connections closed before a load balancer's keep-alive closes them under a request.
public struct WeChatHTTPSettings: Sendable, Equatable {
    /// Establishing one connection (TCP, and TLS for HTTPS).
    public var connectTimeout: Duration
    /// The answer, with the connection's share: an exchange gets `exchangeTimeout`. Past it
    /// WeChat may have acted on the request, so only a kind WeChat de-duplicates is sent again
    /// (`Resend`).
    public var responseTimeout: Duration
    /// The most connections (and so sends in flight) per API host; the send window stays within it.
    public var maxConnections: Int
    /// An idle connection is closed after this: below the usual 60–75 s of load balancers, which
    /// otherwise may close it as a request goes out on it.
    public var idleTimeout: Duration

    public init(
        connectTimeout: Duration = .seconds(3), responseTimeout: Duration = .seconds(10), maxConnections: Int = 512,
        idleTimeout: Duration = .seconds(30)
    ) {
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }

    /// One exchange at most, once its turn in the send window came (the turn has the same bound
    /// of its own): a connection, the request written, the answer.
    public var exchangeTimeout: Duration { connectTimeout + responseTimeout }

    public func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        // Every in-flight send needs its own HTTP/1.1 connection; the default soft limit is 8.
        configuration.connectionPool = .init(
            idleTimeout: .nanoseconds(idleTimeout.wholeNanoseconds), concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections)
        // The answer is bounded by the exchange's deadline (`exchangeTimeout` from its turn); a read
        // timeout as well would cost a timer per request for the same bound.
        configuration.timeout = .init(connect: .nanoseconds(connectTimeout.wholeNanoseconds))
        // No tracer is installed; without this AHC still parses every URL for a no-op span.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
