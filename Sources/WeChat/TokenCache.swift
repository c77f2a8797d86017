/// One per account, shared by every partition task.
///
/// Refreshes early, keeps at most one refresh in flight (concurrent callers await the same `Task`
/// kept in the actor's state, like soto-core's ExpiringValue) and invalidates only the token that
/// failed, so a caller holding a stale token cannot throw away a fresh one.
public actor TokenCache<C: Clock> where C.Duration == Duration {
    private struct CachedToken {
        var token: String
        var refreshAt: C.Instant
    }

    private let fetcher: any TokenFetching
    private let clock: C
    private let refreshMargin: Duration
    private var cached: CachedToken?
    private var inFlightRefresh: Task<String, any Error>?
    /// How many times the fetcher was asked for a token.
    public private(set) var fetchCount = 0

    public init(fetcher: any TokenFetching, clock: C, refreshMargin: Duration = .seconds(300)) {
        self.fetcher = fetcher
        self.clock = clock
        self.refreshMargin = refreshMargin
    }

    /// The cached token, or the result of the one refresh in flight (started if needed).
    /// A failed refresh throws to every waiter; the next call starts a new one.
    public func token() async throws(WeChatError) -> String {
        if let cached, clock.now < cached.refreshAt {
            return cached.token
        }
        let refresh = inFlightRefresh ?? startRefresh()
        do {
            return try await refresh.value
        } catch let error as WeChatError {
            throw error
        } catch {
            throw WeChatError.transport("token refresh failed: \(error)")
        }
    }

    /// Drops the cached token only if it is still `token` (another caller may have refreshed already). Never loops.
    public func invalidate(ifCurrent token: String) {
        if cached?.token == token {
            cached = nil
        }
    }

    private func startRefresh() -> Task<String, any Error> {
        fetchCount += 1
        // The task runs on this actor (it calls an isolated method), so it starts only after
        // `inFlightRefresh` is set below and every caller until it ends joins it.
        let refresh = Task { try await self.refresh() }
        inFlightRefresh = refresh
        return refresh
    }

    private func refresh() async throws(WeChatError) -> String {
        defer { inFlightRefresh = nil }
        let fetchedAt = clock.now
        let (token, expiresIn) = try await fetcher.fetchToken(forceRefresh: false)
        // Half the lifetime as a floor: a token returned with only a few minutes left
        // (stable_token near its renewal) must not cause a refresh on every call.
        let usefulLife = max(expiresIn - refreshMargin, expiresIn / 2)
        cached = CachedToken(token: token, refreshAt: fetchedAt.advanced(by: usefulLife))
        return token
    }
}
