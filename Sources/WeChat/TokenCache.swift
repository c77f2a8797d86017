import Waiting

/// One per account, shared by every partition task.
///
/// Refreshes early, keeps at most one refresh in flight (concurrent callers await the same `Task`
/// kept in the actor's state, like soto-core's ExpiringValue) and invalidates only the token that
/// failed, so a caller holding a stale token cannot throw away a fresh one.
///
/// An early refresh runs behind the callers: they keep the current token while it is still valid,
/// also when the refresh fails. A failed fetch is retried after a backoff (`Backoff.token`: 1 s doubling to 60 s);
/// until then callers without a valid token fail at once instead of each fetching again.
public actor TokenCache<C: Clock> where C.Duration == Duration {
    /// A token as handed out: its value, and which fetch produced it. `stable_token` can return the
    /// same value twice; the generation tells a stale failure from a fresh token.
    public struct Token: Sendable, Equatable {
        public let value: String
        let generation: Int
    }

    private struct CachedToken {
        var token: Token
        var refreshAt: C.Instant
        var expiresAt: C.Instant
    }

    private struct Failure {
        var error: WeChatError
        var retryAt: C.Instant
        /// Fetches failed in a row.
        var count: Int
    }

    private let fetcher: any TokenFetching
    private let clock: C
    private let refreshMargin: Duration
    private var cached: CachedToken?
    private var failure: Failure?
    private var generation = 0
    private var inFlightRefresh: Task<Token, any Error>?
    /// How many times the fetcher was asked for a token.
    public private(set) var fetchCount = 0

    public init(fetcher: any TokenFetching, clock: C, refreshMargin: Duration = .seconds(300)) {
        self.fetcher = fetcher
        self.clock = clock
        self.refreshMargin = refreshMargin
    }

    /// The cached token; a refresh is started when it is due (callers wait for it only when no
    /// valid token is left). A failed refresh throws to every waiter.
    public func token() async throws(WeChatError) -> Token {
        let now = clock.now
        if let cached, now < cached.refreshAt { return cached.token }
        let valid = cached.flatMap { now < $0.expiresAt ? $0.token : nil }
        if let failure, now < failure.retryAt {
            if let valid { return valid }
            throw failure.error
        }
        let refresh = inFlightRefresh ?? startRefresh()
        if let valid { return valid }
        do {
            return try await refresh.value
        } catch let error as WeChatError {
            throw error
        } catch {
            throw WeChatError.transport("token refresh failed: \(error)", progress: .notWritten)
        }
    }

    /// Drops the cached token only if it is still `token` from the same fetch (another caller may
    /// have refreshed already, even to the same value). Never loops.
    public func invalidate(ifCurrent token: Token) {
        if cached?.token == token {
            cached = nil
        }
    }

    private func startRefresh() -> Task<Token, any Error> {
        fetchCount += 1
        // The task runs on this actor (it calls an isolated method), so it starts only after
        // `inFlightRefresh` is set below and every caller until it ends joins it.
        let refresh = Task { try await self.refresh() }
        inFlightRefresh = refresh
        return refresh
    }

    private func refresh() async throws(WeChatError) -> Token {
        defer { inFlightRefresh = nil }
        let fetchedAt = clock.now
        do {
            let (value, expiresIn) = try await fetcher.fetchToken(forceRefresh: false)
            generation += 1
            // Half the lifetime as a floor: a token returned with only a few minutes left
            // (stable_token near its renewal) must not cause a refresh on every call.
            let usefulLife = max(expiresIn - refreshMargin, expiresIn / 2)
            let token = Token(value: value, generation: generation)
            cached = CachedToken(token: token, refreshAt: fetchedAt.advanced(by: usefulLife), expiresAt: fetchedAt.advanced(by: expiresIn))
            failure = nil
            return token
        } catch {
            let count = (failure?.count ?? 0) + 1
            failure = Failure(error: error, retryAt: clock.now.advanced(by: Backoff.token.delay(afterAttempt: count)), count: count)
            throw error
        }
    }
}
