import Synchronization
import Testing
import Waiting
import WeChat

@Suite("TokenCache")
struct TokenCacheTests {
    @Test func cachesTheTokenUntilTheRefreshInstant() async throws {
        let clock = ManualClock()
        let fetcher = ScriptedFetcher()
        let cache = TokenCache(fetcher: fetcher, clock: clock, refreshMargin: .seconds(300))

        #expect(try await cache.token().value == "token-1")
        clock.advance(by: .seconds(6899))
        #expect(try await cache.token().value == "token-1")
        #expect(await cache.fetchCount == 1)

        clock.advance(by: .seconds(1))  // 7200 - 300: refresh due, the token still valid for 300 s
        #expect(try await cache.token().value == "token-1")
        #expect(await eventually { fetcher.calls == 2 })
        #expect(try await cache.token().value == "token-2")
        #expect(await cache.fetchCount == 2)
    }

    @Test func aShortLivedTokenIsKeptForHalfItsLife() async throws {
        let clock = ManualClock()
        let fetcher = ScriptedFetcher(script: [.success(("short", .seconds(400)))])
        let cache = TokenCache(fetcher: fetcher, clock: clock, refreshMargin: .seconds(300))

        #expect(try await cache.token().value == "short")
        clock.advance(by: .seconds(199))
        #expect(try await cache.token().value == "short")
        clock.advance(by: .seconds(1))
        #expect(try await cache.token().value == "short")
        #expect(await eventually { fetcher.calls == 2 })
        #expect(try await cache.token().value == "token-2")
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let fetcher = ScriptedFetcher(gateClosed: true)
        let cache = TokenCache(fetcher: fetcher, clock: ManualClock())

        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 {
                group.addTask { try await cache.token().value }
            }
            #expect(await eventually { fetcher.heldCalls == 1 })
            fetcher.openGate()
            return try await group.reduce(into: []) { $0.append($1) }
        }

        #expect(tokens == Array(repeating: "token-1", count: 50))
        #expect(await cache.fetchCount == 1)
        #expect(fetcher.calls == 1)
    }

    @Test func invalidateDropsOnlyTheCurrentToken() async throws {
        let fetcher = ScriptedFetcher()
        let cache = TokenCache(fetcher: fetcher, clock: ManualClock())

        let first = try await cache.token()
        #expect(try await cache.token() == first)
        #expect(await cache.fetchCount == 1)

        await cache.invalidate(ifCurrent: first)
        let second = try await cache.token()
        #expect(second.value == "token-2")

        // A caller that failed with the old token must not throw away the new one.
        await cache.invalidate(ifCurrent: first)
        #expect(try await cache.token() == second)
        #expect(await cache.fetchCount == 2)
    }

    @Test func aFailedFetchReachesTheCallerAndTheNextCallRetries() async throws {
        let refused = WeChatError(errcode: 40125, errmsg: "invalid appsecret")
        let fetcher = ScriptedFetcher(script: [.failure(refused)])
        let clock = ManualClock()
        let cache = TokenCache(fetcher: fetcher, clock: clock)

        let error = await #expect(throws: WeChatError.self) { try await cache.token() }
        #expect(error == refused)
        #expect(error?.action == .accountMisconfigured)

        // Backing off: callers fail at once, without a fetch, until the retry instant.
        await #expect(throws: WeChatError.self) { try await cache.token() }
        #expect(await cache.fetchCount == 1)
        clock.advance(by: .seconds(1))
        #expect(try await cache.token().value == "token-2")
        #expect(await cache.fetchCount == 2)
    }

    @Test func aFailedEarlyRefreshKeepsTheValidToken() async throws {
        let clock = ManualClock()
        let busy = WeChatError(errcode: -1, errmsg: "system error")
        let fetcher = ScriptedFetcher(script: [.success(("first", .seconds(7200))), .failure(busy), .failure(busy), .failure(busy)])
        let cache = TokenCache(fetcher: fetcher, clock: clock, refreshMargin: .seconds(300))

        #expect(try await cache.token().value == "first")
        clock.advance(by: .seconds(6900))  // refresh due, 300 s of life left
        #expect(try await cache.token().value == "first")  // the early refresh runs behind the caller
        #expect(await eventually { fetcher.calls == 2 })
        #expect(try await cache.token().value == "first")  // it failed: backing off, still the valid token
        clock.advance(by: .seconds(2))
        _ = try await cache.token()
        #expect(await eventually { fetcher.calls == 3 })
        clock.advance(by: .seconds(300))  // expired, and the last refresh failed
        await #expect(throws: WeChatError.self) { try await cache.token() }
    }

    @Test func aStaleFailureDoesNotDropATokenFetchedSinceEvenWithTheSameValue() async throws {
        let fetcher = ScriptedFetcher(script: [.success(("same", .seconds(7200))), .success(("same", .seconds(7200)))])
        let cache = TokenCache(fetcher: fetcher, clock: ManualClock())
        let stale = try await cache.token()
        await cache.invalidate(ifCurrent: stale)
        let fresh = try await cache.token()
        #expect(fresh.value == stale.value)
        await cache.invalidate(ifCurrent: stale)  // a request that started before the refresh
        #expect(try await cache.token() == fresh)
        #expect(await cache.fetchCount == 2)
    }

    @Test func aFailedRefreshThrowsToEveryWaiter() async throws {
        let busy = WeChatError(errcode: -1, errmsg: "system error")
        let fetcher = ScriptedFetcher(script: [.failure(busy)], gateClosed: true)
        let cache = TokenCache(fetcher: fetcher, clock: ManualClock())

        let started = StartedCounter()
        let failures = await withTaskGroup(of: WeChatError?.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    started.count.withLock { $0 += 1 }
                    do throws(WeChatError) {
                        _ = try await cache.token()
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            // Every caller must have joined the held refresh before it fails, or a late one would
            // start a second (successful) refresh.
            #expect(await eventually { fetcher.heldCalls == 1 && started.count.withLock { $0 } == 10 })
            for _ in 0..<1000 { await Task.yield() }
            fetcher.openGate()
            return await group.reduce(into: []) { $0.append($1) }
        }

        #expect(failures.allSatisfy { $0 == busy })
        #expect(await cache.fetchCount == 1)
    }
}

/// How many concurrent callers have begun, shared with their child tasks.
private final class StartedCounter: Sendable {
    let count = Mutex(0)
}
