import ServiceLifecycle

/// Keeps a resource (an embedded cluster, a simulator) alive until graceful shutdown.
struct HoldUntilShutdown<Resource: Sendable>: Service {
    let resource: Resource

    func run() async throws {
        try? await gracefulShutdown()
        withExtendedLifetime(resource) {}
    }
}
